import 'dart:async';

import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'errors.dart';

/// The card token of the test payment provider; a Stripe token in production.
const testCardToken = 'tok_visa';

/// Booking: pick a quantity, hold the tickets (with the hold's countdown), pay with the
/// test card, or give them back.
class BookingPage extends StatefulWidget {
  const BookingPage({
    super.key,
    required this.backend,
    required this.event,
    required this.ticketType,
  });

  final Backend backend;
  final Event event;
  final EventTicketType ticketType;

  @override
  State<BookingPage> createState() => _BookingPageState();
}

class _BookingPageState extends State<BookingPage> {
  int _quantity = 1;
  Hold? _hold;
  Order? _order;
  bool _busy = false;
  String? _message;

  Future<void> _run(Future<void> Function() action) async {
    setState(() {
      _busy = true;
      _message = null;
    });
    try {
      await action();
    } catch (error) {
      if (mounted) setState(() => _message = describeError(AppLocalizations.of(context), error));
    } finally {
      if (mounted) setState(() => _busy = false);
    }
  }

  Future<void> _holdTickets() => _run(() async {
        final hold = await widget.backend.hold(widget.event.id, widget.ticketType.id, _quantity);
        setState(() => _hold = hold);
      });

  Future<void> _pay() => _run(() async {
        final order = await widget.backend.checkout(_hold!.id, testCardToken);
        setState(() => _order = order);
      });

  Future<void> _release() => _run(() async {
        await widget.backend.release(_hold!.id);
        if (mounted) Navigator.of(context).pop();
      });

  static String _clock(int seconds) {
    final minutes = (seconds ~/ 60).toString().padLeft(2, '0');
    final rest = (seconds % 60).toString().padLeft(2, '0');
    return '$minutes:$rest';
  }

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    final type = widget.ticketType;
    final hold = _hold;
    return Scaffold(
      appBar: AppBar(title: Text(widget.event.title)),
      body: Padding(
        padding: const EdgeInsets.all(16),
        child: Column(
          crossAxisAlignment: CrossAxisAlignment.stretch,
          children: [
            Text(type.name, style: Theme.of(context).textTheme.titleLarge),
            Text(formatPrice(type.priceMinor, type.currency)),
            const SizedBox(height: 16),
            if (_order != null)
              Text(l10n.paid, key: const Key('paid'))
            else if (hold == null) ...[
              Row(
                children: [
                  Text(l10n.quantity),
                  const Spacer(),
                  IconButton(
                    icon: const Icon(Icons.remove),
                    onPressed: _quantity > 1 ? () => setState(() => _quantity--) : null,
                  ),
                  Text('$_quantity', key: const Key('quantity')),
                  IconButton(
                    icon: const Icon(Icons.add),
                    onPressed: _quantity < type.maxPerOrder
                        ? () => setState(() => _quantity++)
                        : null,
                  ),
                ],
              ),
              FilledButton(
                key: const Key('hold'),
                onPressed: _busy ? null : _holdTickets,
                child: Text(l10n.book),
              ),
            ] else ...[
              StreamBuilder<int>(
                stream: hold.countdown(),
                initialData: hold.secondsLeft,
                builder: (context, snapshot) {
                  final left = snapshot.data ?? 0;
                  return Text(
                    left > 0 ? l10n.holdCountdown(_clock(left)) : l10n.holdExpired,
                    key: const Key('countdown'),
                    style: Theme.of(context).textTheme.headlineSmall,
                  );
                },
              ),
              const SizedBox(height: 16),
              ListTile(
                leading: const Icon(Icons.credit_card),
                title: Text(l10n.testCard),
              ),
              FilledButton(
                key: const Key('pay'),
                onPressed: _busy ? null : _pay,
                child: Text(l10n.pay(formatPrice(hold.totalMinor, hold.currency))),
              ),
              TextButton(
                onPressed: _busy ? null : _release,
                child: Text(l10n.release),
              ),
            ],
            if (_busy) const LinearProgressIndicator(),
            if (_message != null)
              Padding(
                padding: const EdgeInsets.only(top: 12),
                child: Text(
                  _message!,
                  style: TextStyle(color: Theme.of(context).colorScheme.error),
                ),
              ),
          ],
        ),
      ),
    );
  }
}
