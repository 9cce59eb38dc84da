import 'package:flutter/material.dart';
import 'package:flutter_localizations/flutter_localizations.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'catalog_page.dart';
import 'wallet_page.dart';

/// The attendee app: the catalog and the wallet, in English, French or Arabic
/// (right to left, from the locale).
class AttendeeApp extends StatelessWidget {
  const AttendeeApp({super.key, required this.backend, this.locale});

  final Backend backend;

  /// Forces a language (tests); the device's otherwise.
  final Locale? locale;

  @override
  Widget build(BuildContext context) {
    return MaterialApp(
      onGenerateTitle: (context) => AppLocalizations.of(context).appTitle,
      locale: locale,
      localizationsDelegates: const [
        AppLocalizations.delegate,
        GlobalMaterialLocalizations.delegate,
        GlobalWidgetsLocalizations.delegate,
        GlobalCupertinoLocalizations.delegate,
      ],
      supportedLocales: AppLocalizations.supportedLocales,
      theme: ThemeData(colorSchemeSeed: const Color(0xFF2F5D8A), useMaterial3: true),
      home: HomePage(backend: backend),
    );
  }
}

/// Catalog and wallet behind a navigation bar.
class HomePage extends StatefulWidget {
  const HomePage({super.key, required this.backend});

  final Backend backend;

  @override
  State<HomePage> createState() => _HomePageState();
}

class _HomePageState extends State<HomePage> {
  int _tab = 0;

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    return Scaffold(
      body: IndexedStack(
        index: _tab,
        children: [
          CatalogPage(backend: widget.backend),
          WalletPage(backend: widget.backend),
        ],
      ),
      bottomNavigationBar: NavigationBar(
        selectedIndex: _tab,
        onDestinationSelected: (tab) => setState(() => _tab = tab),
        destinations: [
          NavigationDestination(icon: const Icon(Icons.event), label: l10n.catalogTitle),
          NavigationDestination(
            icon: const Icon(Icons.confirmation_number),
            label: l10n.walletTitle,
          ),
        ],
      ),
    );
  }
}
