import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';
import 'package:path_provider/path_provider.dart';

import 'src/app.dart';
import 'src/backend.dart';

/// The server the app talks to: `--dart-define=GUICHET_SERVER=https://…` at build time.
const serverUrl = String.fromEnvironment(
  'GUICHET_SERVER',
  defaultValue: 'http://10.0.2.2:8080',
);

Future<void> main() async {
  WidgetsFlutterBinding.ensureInitialized();
  final dataDir = await getApplicationSupportDirectory();
  final client = await GuichetClient.open(serverUrl: serverUrl, dataDir: dataDir.path);
  runApp(AttendeeApp(backend: GuichetBackend(client)));
}
