import 'dart:typed_data';

import 'package:flutter_attendee/src/backend.dart';
import 'package:guichet/guichet.dart';

/// A 1×1 white PNG: the QR page only needs bytes `Image.memory` can decode.
final onePixelPng = Uint8List.fromList([
  0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
  0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A,
  0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
  0x0F, 0x00, 0x01, 0x01, 0x01, 0x00, 0x1B, 0xB6, 0xEE, 0x56, 0x00, 0x00, 0x00, 0x00, 0x49,
  0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
]);

final concertStart = DateTime.utc(2099, 6, 1, 19);

Event event(String id, String title, String city) => Event(
      id: id,
      title: title,
      description: 'A test event.',
      venue: 'Hall',
      city: city,
      latitude: 48.8566,
      longitude: 2.3522,
      startsAtMs: concertStart.millisecondsSinceEpoch,
      endsAtMs: concertStart.add(const Duration(hours: 4)).millisecondsSinceEpoch,
      timeZone: 'Europe/Paris',
      online: false,
      status: 'PUBLISHED',
      ticketTypes: [
        EventTicketType(
          id: '$id-standing',
          name: 'Standing',
          priceMinor: 2500,
          currency: 'EUR',
          saleStartsAtMs: 0,
          saleEndsAtMs: concertStart.millisecondsSinceEpoch,
          maxPerOrder: 6,
          available: 10,
        ),
      ],
    );

/// Two events, a card that pays, and a switch to go offline.
class FakeBackend implements Backend {
  final events = [event('e1', 'Concert', 'Paris'), event('e2', 'Opéra', 'Lyon')];
  final wallet = <WalletTicket>[];
  bool offline = false;
  int syncs = 0;

  BridgeError get _network => const BridgeError(kind: ErrorKind.network, message: 'offline');

  @override
  Future<Account?> account() async => null;

  @override
  Future<Account> logIn(String email, String password) async =>
      Account(id: 'a1', email: email, displayName: 'Ann', role: Role.attendee);

  @override
  Future<Account> signUp(String email, String password, String displayName) async =>
      Account(id: 'a1', email: email, displayName: displayName, role: Role.attendee);

  @override
  Future<void> logOut() async {}

  @override
  Stream<TaskEvent> sync() async* {
    syncs++;
    yield const TaskEvent(task: TaskKind.sync, done: 2, total: null, outcome: null, error: null);
    yield TaskEvent(
      task: TaskKind.sync,
      done: 0,
      total: null,
      outcome: offline ? TaskOutcome.failed : TaskOutcome.completed,
      error: offline ? _network : null,
    );
  }

  @override
  Future<List<EventHit>> search(CatalogFilter filter) async => [
        for (final e in events)
          if (e.title.toLowerCase().startsWith(filter.text.toLowerCase()))
            EventHit(event: e, distanceKm: null),
      ];

  @override
  Future<Event?> event(String eventId) async => events.firstWhere((e) => e.id == eventId);

  @override
  Future<List<Availability>> availability(String eventId) async {
    if (offline) throw _network;
    final type = events.firstWhere((e) => e.id == eventId).ticketTypes.first;
    return [
      Availability(
        ticketTypeId: type.id,
        name: type.name,
        priceMinor: type.priceMinor,
        currency: type.currency,
        maxPerOrder: type.maxPerOrder,
        available: 7,
      ),
    ];
  }

  @override
  Future<Hold> hold(String eventId, String ticketTypeId, int quantity) async => Hold(
        id: 'h1',
        eventId: eventId,
        status: HoldStatus.active,
        totalMinor: 2500 * quantity,
        currency: 'EUR',
        expiresAtMs: DateTime.now().add(const Duration(minutes: 10)).millisecondsSinceEpoch,
        secondsLeft: 600,
        items: [HoldItem(ticketTypeId: ticketTypeId, quantity: quantity, unitPriceMinor: 2500)],
      );

  @override
  Future<Order> checkout(String holdId, String paymentToken) async {
    if (paymentToken != 'tok_visa') {
      throw const BridgeError(kind: ErrorKind.paymentDeclined, message: 'declined');
    }
    final ticket = Ticket(
      id: 't1',
      orderId: 'o1',
      eventId: 'e1',
      ticketTypeId: 'e1-standing',
      priceMinor: 2500,
      status: TicketStatus.valid,
      credential: 'GUICHET1',
      issuedAtMs: 0,
    );
    wallet.add(WalletTicket(ticket: ticket, event: null));
    return Order(
      id: 'o1',
      eventId: 'e1',
      status: OrderStatus.completed,
      totalMinor: 2500,
      refundedMinor: 0,
      currency: 'EUR',
      failure: null,
      createdAtMs: 0,
      tickets: [ticket],
    );
  }

  @override
  Future<Hold> release(String holdId) async => throw UnimplementedError();

  @override
  Future<List<WalletTicket>> tickets() async => List.of(wallet);

  @override
  Uint8List qrPng(Ticket ticket) => onePixelPng;
}
