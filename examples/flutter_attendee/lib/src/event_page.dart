import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'booking_page.dart';
import 'errors.dart';

/// One event: its details and ticket types, with live availability when online and the
/// numbers of the last sync otherwise.
class EventPage extends StatefulWidget {
  const EventPage({super.key, required this.backend, required this.event});

  final Backend backend;
  final Event event;

  @override
  State<EventPage> createState() => _EventPageState();
}

class _EventPageState extends State<EventPage> {
  Map<String, int>? _live;

  @override
  void initState() {
    super.initState();
    _loadAvailability();
  }

  Future<void> _loadAvailability() async {
    try {
      final stock = await widget.backend.availability(widget.event.id);
      if (!mounted) return;
      setState(() => _live = {for (final t in stock) t.ticketTypeId: t.available});
    } catch (error) {
      // Offline: the cached numbers stay.
      if (!isOffline(error) && mounted) {
        ScaffoldMessenger.of(context).showSnackBar(
          SnackBar(content: Text(describeError(AppLocalizations.of(context), error))),
        );
      }
    }
  }

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    final event = widget.event;
    final dates = MaterialLocalizations.of(context);
    return Scaffold(
      appBar: AppBar(title: Text(event.title)),
      body: RefreshIndicator(
        onRefresh: _loadAvailability,
        child: ListView(
          padding: const EdgeInsets.all(16),
          children: [
            Text(
              '${dates.formatFullDate(event.startsAt.toLocal())} · '
              '${dates.formatTimeOfDay(TimeOfDay.fromDateTime(event.startsAt.toLocal()))}',
              style: Theme.of(context).textTheme.titleMedium,
            ),
            Text('${event.venue}, ${event.city}'),
            const SizedBox(height: 12),
            Text(event.description),
            const SizedBox(height: 24),
            Text(l10n.ticketTypes, style: Theme.of(context).textTheme.titleLarge),
            for (final type in event.ticketTypes) _typeTile(context, l10n, type),
          ],
        ),
      ),
    );
  }

  Widget _typeTile(BuildContext context, AppLocalizations l10n, EventTicketType type) {
    final left = _live?[type.id] ?? type.available;
    return Card(
      child: ListTile(
        title: Text(type.name),
        subtitle: Text(
          '${formatPrice(type.priceMinor, type.currency)} · '
          '${left > 0 ? l10n.available(left) : l10n.soldOut}',
        ),
        trailing: FilledButton(
          key: Key('book-${type.id}'),
          onPressed: left > 0
              ? () => Navigator.of(context).push(
                    MaterialPageRoute<void>(
                      builder: (_) => BookingPage(
                        backend: widget.backend,
                        event: widget.event,
                        ticketType: type,
                      ),
                    ),
                  )
              : null,
          child: Text(l10n.book),
        ),
      ),
    );
  }
}
