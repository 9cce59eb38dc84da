import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'errors.dart';
import 'sign_in_page.dart';

/// The wallet: the tickets kept on the phone, readable with no network.
class WalletPage extends StatefulWidget {
  const WalletPage({super.key, required this.backend});

  final Backend backend;

  @override
  State<WalletPage> createState() => _WalletPageState();
}

class _WalletPageState extends State<WalletPage> {
  late Future<List<WalletTicket>> _tickets = widget.backend.tickets();

  Future<void> _refresh() async {
    await widget.backend.sync().drain<void>();
    setState(() => _tickets = widget.backend.tickets());
    await _tickets;
  }

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    return Scaffold(
      appBar: AppBar(
        title: Text(l10n.walletTitle),
        actions: [
          IconButton(
            key: const Key('account'),
            icon: const Icon(Icons.account_circle),
            tooltip: l10n.signIn,
            onPressed: () async {
              await Navigator.of(context).push(
                MaterialPageRoute<void>(builder: (_) => SignInPage(backend: widget.backend)),
              );
              await _refresh();
            },
          ),
        ],
      ),
      body: RefreshIndicator(
        onRefresh: _refresh,
        child: FutureBuilder<List<WalletTicket>>(
          future: _tickets,
          builder: (context, snapshot) {
            if (snapshot.hasError) {
              return ListView(children: [
                ListTile(title: Text(describeError(l10n, snapshot.error!))),
              ]);
            }
            final tickets = snapshot.data;
            if (tickets == null) return const Center(child: CircularProgressIndicator());
            if (tickets.isEmpty) {
              return ListView(children: [ListTile(title: Text(l10n.noTickets))]);
            }
            return ListView(
              children: [
                for (final ticket in tickets)
                  ListTile(
                    leading: const Icon(Icons.qr_code_2),
                    title: Text(ticket.event?.title ?? ticket.ticket.eventId),
                    subtitle: Text(
                      ticket.ticket.status == TicketStatus.revoked
                          ? l10n.revoked
                          : [ticket.event?.venue, ticket.event?.city]
                              .whereType<String>()
                              .join(', '),
                    ),
                    enabled: ticket.ticket.status == TicketStatus.valid,
                    onTap: () => Navigator.of(context).push(
                      MaterialPageRoute<void>(
                        fullscreenDialog: true,
                        builder: (_) => TicketQrPage(backend: widget.backend, ticket: ticket),
                      ),
                    ),
                  ),
              ],
            );
          },
        ),
      ),
    );
  }
}

/// One ticket's QR code, full screen on white, for the door's scanner.
class TicketQrPage extends StatelessWidget {
  const TicketQrPage({super.key, required this.backend, required this.ticket});

  final Backend backend;
  final WalletTicket ticket;

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    final png = backend.qrPng(ticket.ticket);
    return Scaffold(
      backgroundColor: Colors.white,
      appBar: AppBar(
        backgroundColor: Colors.white,
        foregroundColor: Colors.black,
        title: Text(ticket.event?.title ?? ''),
      ),
      body: SafeArea(
        child: Column(
          children: [
            Expanded(
              child: Center(
                child: Padding(
                  padding: const EdgeInsets.all(24),
                  child: Image.memory(
                    png,
                    key: const Key('qr'),
                    filterQuality: FilterQuality.none,
                    fit: BoxFit.contain,
                  ),
                ),
              ),
            ),
            Padding(
              padding: const EdgeInsets.all(16),
              child: Text(l10n.showQr, style: const TextStyle(color: Colors.black)),
            ),
          ],
        ),
      ),
    );
  }
}
