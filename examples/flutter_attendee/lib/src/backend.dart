import 'dart:typed_data';

import 'package:guichet/guichet.dart';

/// What the screens need from Guichet: the client in the app, a fake in widget tests.
abstract class Backend {
  Future<Account?> account();
  Future<Account> logIn(String email, String password);
  Future<Account> signUp(String email, String password, String displayName);
  Future<void> logOut();

  /// Syncs catalog, pending operations and wallet; the last event carries the outcome.
  Stream<TaskEvent> sync();
  Future<List<EventHit>> search(CatalogFilter filter);
  Future<Event?> event(String eventId);
  Future<List<Availability>> availability(String eventId);

  Future<Hold> hold(String eventId, String ticketTypeId, int quantity);
  Future<Order> checkout(String holdId, String paymentToken);
  Future<Hold> release(String holdId);

  Future<List<WalletTicket>> tickets();
  Uint8List qrPng(Ticket ticket);
}

/// The catalog screen's search: text, a start window, a distance from a point.
class CatalogFilter {
  const CatalogFilter({this.text = '', this.within, this.radiusKm, this.from});

  final String text;

  /// Only events starting in this window from now.
  final Duration? within;

  /// Only events within this radius of [from].
  final int? radiusKm;
  final Near? from;

  CatalogFilter copyWith({String? text, Duration? within, int? radiusKm, bool clearWithin = false, bool clearRadius = false}) =>
      CatalogFilter(
        text: text ?? this.text,
        within: clearWithin ? null : (within ?? this.within),
        radiusKm: clearRadius ? null : (radiusKm ?? this.radiusKm),
        from: from,
      );
}

/// The real thing: the Rust SDK through the `guichet` package.
class GuichetBackend implements Backend {
  GuichetBackend(this.client);

  final GuichetClient client;

  @override
  Future<Account?> account() => client.account();

  @override
  Future<Account> logIn(String email, String password) =>
      client.logIn(email: email, password: password);

  @override
  Future<Account> signUp(String email, String password, String displayName) =>
      client.signUp(email: email, password: password, displayName: displayName);

  @override
  Future<void> logOut() => client.logOut();

  @override
  Stream<TaskEvent> sync() => client.syncWithProgress();

  @override
  Future<List<EventHit>> search(CatalogFilter filter) {
    final now = DateTime.now();
    final radius = filter.radiusKm;
    final from = filter.from;
    return client.search(
      text: filter.text,
      startsAfter: filter.within == null ? null : now,
      startsBefore: filter.within == null ? null : now.add(filter.within!),
      near: (radius == null || from == null)
          ? null
          : Near(latitude: from.latitude, longitude: from.longitude, radiusKm: radius.toDouble()),
    );
  }

  @override
  Future<Event?> event(String eventId) => client.event(eventId);

  @override
  Future<List<Availability>> availability(String eventId) => client.availability(eventId);

  @override
  Future<Hold> hold(String eventId, String ticketTypeId, int quantity) =>
      client.hold(eventId: eventId, ticketTypeId: ticketTypeId, quantity: quantity);

  @override
  Future<Order> checkout(String holdId, String paymentToken) =>
      client.checkout(holdId: holdId, paymentToken: paymentToken);

  @override
  Future<Hold> release(String holdId) => client.release(holdId);

  @override
  Future<List<WalletTicket>> tickets() => client.tickets();

  @override
  Uint8List qrPng(Ticket ticket) => client.qrPng(ticket, modulePx: 10);
}
