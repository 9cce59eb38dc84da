import 'src/build_tool.dart' as build_tool;

Future<void> runMain(List<String> args) async {
  return build_tool.runMain(args);
}
