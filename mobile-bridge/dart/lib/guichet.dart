/// Guichet for Flutter: the offline-first ticketing client over the Rust SDK.
///
/// Open a [GuichetClient] on the app's data directory, sign in, sync the catalog (with
/// progress), search it offline, hold tickets with a countdown, pay, and carry the tickets
/// as QR codes with no network.
library guichet;

export 'src/client.dart';
export 'src/rust/api/error.dart' show BridgeError, ErrorKind;
export 'src/rust/api/records.dart';
