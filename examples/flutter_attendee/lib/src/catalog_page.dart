import 'dart:async';

import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'errors.dart';
import 'event_page.dart';

/// Paris, until the app asks the phone where it is.
const defaultLocation = Near(latitude: 48.8566, longitude: 2.3522, radiusKm: 0);

/// The catalog: a search field, date and distance filters, pull to refresh. Searches run
/// on the device, so the list works offline after one sync.
class CatalogPage extends StatefulWidget {
  const CatalogPage({super.key, required this.backend});

  final Backend backend;

  @override
  State<CatalogPage> createState() => _CatalogPageState();
}

class _CatalogPageState extends State<CatalogPage> {
  CatalogFilter _filter = const CatalogFilter(from: defaultLocation);
  List<EventHit> _hits = const [];
  bool _offline = false;
  int? _syncedSoFar;
  Object? _error;

  @override
  void initState() {
    super.initState();
    _search();
  }

  Future<void> _search() async {
    try {
      final hits = await widget.backend.search(_filter);
      if (mounted) setState(() => _hits = hits);
    } catch (error) {
      if (mounted) setState(() => _error = error);
    }
  }

  /// Pull to refresh: a sync with its progress, then the search again.
  Future<void> _refresh() async {
    setState(() => _syncedSoFar = 0);
    await for (final event in widget.backend.sync()) {
      if (!mounted) return;
      if (event.outcome == null) {
        setState(() => _syncedSoFar = event.done);
        continue;
      }
      setState(() {
        _syncedSoFar = null;
        final error = event.error;
        _offline = error != null && error.kind == ErrorKind.network;
        _error = (error == null || _offline) ? null : error;
      });
    }
    await _search();
  }

  void _setFilter(CatalogFilter filter) {
    setState(() => _filter = filter);
    _search();
  }

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    return Scaffold(
      appBar: AppBar(
        title: Text(l10n.catalogTitle),
        bottom: PreferredSize(
          preferredSize: const Size.fromHeight(112),
          child: Padding(
            padding: const EdgeInsetsDirectional.fromSTEB(12, 0, 12, 8),
            child: Column(
              children: [
                TextField(
                  key: const Key('search'),
                  decoration: InputDecoration(
                    hintText: l10n.searchHint,
                    prefixIcon: const Icon(Icons.search),
                  ),
                  onChanged: (text) => _setFilter(_filter.copyWith(text: text)),
                ),
                const SizedBox(height: 8),
                _Filters(filter: _filter, onChanged: _setFilter),
              ],
            ),
          ),
        ),
      ),
      body: RefreshIndicator(
        onRefresh: _refresh,
        child: ListView(
          physics: const AlwaysScrollableScrollPhysics(),
          children: [
            if (_syncedSoFar != null) ListTile(title: Text(l10n.syncing(_syncedSoFar!))),
            if (_offline)
              MaterialBanner(
                content: Text(l10n.offlineBanner),
                leading: const Icon(Icons.cloud_off),
                actions: const [SizedBox.shrink()],
              ),
            if (_error != null) ListTile(title: Text(describeError(l10n, _error!))),
            if (_hits.isEmpty) ListTile(title: Text(l10n.noEvents)),
            for (final hit in _hits) _EventTile(hit: hit, backend: widget.backend),
          ],
        ),
      ),
    );
  }
}

class _Filters extends StatelessWidget {
  const _Filters({required this.filter, required this.onChanged});

  final CatalogFilter filter;
  final ValueChanged<CatalogFilter> onChanged;

  static const _windows = [Duration(days: 7), Duration(days: 30)];
  static const _radii = [10, 50];

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    return SingleChildScrollView(
      scrollDirection: Axis.horizontal,
      child: Row(
        children: [
          ChoiceChip(
            label: Text(l10n.filterAnyDate),
            selected: filter.within == null,
            onSelected: (_) => onChanged(filter.copyWith(clearWithin: true)),
          ),
          for (final window in _windows)
            Padding(
              padding: const EdgeInsetsDirectional.only(start: 4),
              child: ChoiceChip(
                label: Text(l10n.filterWithinDays(window.inDays)),
                selected: filter.within == window,
                onSelected: (_) => onChanged(filter.copyWith(within: window)),
              ),
            ),
          const SizedBox(width: 12),
          ChoiceChip(
            label: Text(l10n.filterAnyDistance),
            selected: filter.radiusKm == null,
            onSelected: (_) => onChanged(filter.copyWith(clearRadius: true)),
          ),
          for (final km in _radii)
            Padding(
              padding: const EdgeInsetsDirectional.only(start: 4),
              child: ChoiceChip(
                key: Key('radius-$km'),
                label: Text(l10n.filterDistance(km)),
                selected: filter.radiusKm == km,
                onSelected: (_) => onChanged(filter.copyWith(radiusKm: km)),
              ),
            ),
        ],
      ),
    );
  }
}

class _EventTile extends StatelessWidget {
  const _EventTile({required this.hit, required this.backend});

  final EventHit hit;
  final Backend backend;

  @override
  Widget build(BuildContext context) {
    final event = hit.event;
    final when = MaterialLocalizations.of(context).formatMediumDate(event.startsAt.toLocal());
    final distance = hit.distanceKm;
    return ListTile(
      title: Text(event.title),
      subtitle: Text([
        when,
        '${event.venue}, ${event.city}',
        if (distance != null) '${distance.toStringAsFixed(1)} km',
      ].join(' · ')),
      trailing: const Icon(Icons.chevron_right),
      onTap: () => Navigator.of(context).push(
        MaterialPageRoute<void>(builder: (_) => EventPage(backend: backend, event: event)),
      ),
    );
  }
}
