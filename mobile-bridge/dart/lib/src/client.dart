import 'dart:async';
import 'dart:typed_data';

import 'rust/api/client.dart' as rust;
import 'rust/api/error.dart';
import 'rust/api/records.dart';
import 'rust/api/wallet.dart' as qr;
import 'rust/frb_generated.dart';

/// The attendee's client: a thin Dart face over the generated bindings.
///
/// Every call goes to the Rust SDK; failures are thrown as [BridgeError] with a stable
/// [ErrorKind] to branch on and a message safe to show.
class GuichetClient {
  GuichetClient._(this._rust);

  final rust.GuichetClient _rust;

  static Future<void>? _loading;

  /// Loads the native library once per isolate.
  static Future<void> ensureLoaded() => _loading ??= GuichetBridge.init();

  /// Opens the client of [serverUrl] with its data in [dataDir] (for instance
  /// `getApplicationSupportDirectory()` from `path_provider`).
  static Future<GuichetClient> open({
    required String serverUrl,
    required String dataDir,
  }) async {
    await ensureLoaded();
    final client = await rust.GuichetClient.open(serverUrl: serverUrl, dataDir: dataDir);
    return GuichetClient._(client);
  }

  // Session.

  /// Creates an attendee account and signs it in.
  Future<Account> signUp({
    required String email,
    required String password,
    required String displayName,
  }) =>
      _rust.signUp(
        form: SignUpForm(
          email: email,
          password: password,
          displayName: displayName,
          role: Role.attendee,
        ),
      );

  /// Signs in.
  Future<Account> logIn({required String email, required String password}) =>
      _rust.logIn(email: email, password: password);

  /// Signs out here and on the server.
  Future<void> logOut() => _rust.logOut();

  /// The signed-in account, if any (no network).
  Future<Account?> account() => _rust.account();

  // Sync and changes.

  /// Catalog, pending operations and wallet in one go: what pull to refresh calls.
  Future<SyncSummary> sync() => _rust.sync();

  /// [sync] reporting its progress; the last event carries the outcome.
  Stream<TaskEvent> syncWithProgress() => _rust.syncWithProgress();

  /// Pulls the catalog's changes, reporting progress; the last event carries the outcome.
  /// Cancelling the subscription cancels the sync.
  Stream<TaskEvent> syncCatalog() => _rust.syncCatalogWithProgress();

  /// Every change of local data (re-read what changed).
  Stream<ChangeEvent> changes() => _rust.changes();

  // Catalog (offline after a sync).

  /// Searches the cached catalog: [text] as word prefixes, a start window, a distance.
  Future<List<EventHit>> search({
    String? text,
    DateTime? startsAfter,
    DateTime? startsBefore,
    Near? near,
    bool includePast = false,
    int limit = 50,
    int offset = 0,
  }) =>
      _rust.searchEvents(
        query: EventQuery(
          text: (text == null || text.trim().isEmpty) ? null : text.trim(),
          startsAfterMs: startsAfter?.millisecondsSinceEpoch,
          startsBeforeMs: startsBefore?.millisecondsSinceEpoch,
          near: near,
          includePast: includePast,
          limit: limit,
          offset: offset,
        ),
      );

  /// A cached event.
  Future<Event?> event(String eventId) => _rust.event(eventId: eventId);

  /// What is left of each ticket type right now (needs the network).
  Future<List<Availability>> availability(String eventId) =>
      _rust.availability(eventId: eventId);

  // Booking.

  /// Holds [quantity] tickets of a type; the hold lapses at [Hold.expiresAt].
  Future<Hold> hold({
    required String eventId,
    required String ticketTypeId,
    required int quantity,
  }) =>
      _rust.hold(
        eventId: eventId,
        lines: [HoldLine(ticketTypeId: ticketTypeId, quantity: quantity)],
      );

  /// The hold as last heard, its seconds left counted now (no network).
  Future<Hold> holdStatus(String holdId) => _rust.holdStatus(holdId: holdId);

  /// Pays for a hold with a card token (`tok_visa` with the test provider, a Stripe
  /// token in production).
  Future<Order> checkout({required String holdId, String? paymentToken}) =>
      _rust.checkout(holdId: holdId, paymentToken: paymentToken);

  /// Gives a hold's tickets back.
  Future<Hold> release(String holdId) => _rust.release(holdId: holdId);

  /// Refunds an order's tickets (all of them when [ticketIds] is empty).
  Future<Order> refund({required String orderId, List<String> ticketIds = const []}) =>
      _rust.refund(orderId: orderId, ticketIds: ticketIds);

  /// An order, live: as it stands, then after each checkout step and refund, with the
  /// connection's phases; ends with [LivePhase.ended] (its `error` says why, if it failed).
  Stream<OrderUpdate> watchOrder(String orderId) => _rust.watchOrder(orderId: orderId);

  /// Operations still waiting for an answer.
  Future<List<PendingOperation>> pendingOperations() => _rust.pendingOperations();

  // Wallet (offline).

  /// The tickets kept on the device.
  Future<List<WalletTicket>> tickets() => _rust.tickets();

  /// The account's orders (needs the network).
  Future<List<Order>> orders() => _rust.orders();

  /// A ticket's QR code as an SVG document.
  String qrSvg(Ticket ticket, {int modulePx = 8}) =>
      qr.qrSvg(credential: ticket.credential, modulePx: modulePx);

  /// A ticket's QR code as PNG bytes (for `Image.memory`).
  Uint8List qrPng(Ticket ticket, {int modulePx = 8}) =>
      qr.qrPng(credential: ticket.credential, modulePx: modulePx);

  /// Releases the native client.
  void dispose() => _rust.dispose();
}

/// Instants of the records as [DateTime]s.
extension HoldTime on Hold {
  /// When the hold lapses.
  DateTime get expiresAt => DateTime.fromMillisecondsSinceEpoch(expiresAtMs, isUtc: true);

  /// Seconds left at [now], from the device's clock; 0 once lapsed or not active.
  int secondsLeftAt(DateTime now) {
    if (status != HoldStatus.active) return 0;
    final left = expiresAt.difference(now).inSeconds;
    return left < 0 ? 0 : left;
  }

  /// A countdown: the seconds left now, then every second until 0.
  Stream<int> countdown() async* {
    var left = secondsLeftAt(DateTime.now());
    yield left;
    while (left > 0) {
      await Future<void>.delayed(const Duration(seconds: 1));
      left = secondsLeftAt(DateTime.now());
      yield left;
    }
  }
}

/// Instants of an event as [DateTime]s.
extension EventTime on Event {
  /// Start.
  DateTime get startsAt => DateTime.fromMillisecondsSinceEpoch(startsAtMs, isUtc: true);

  /// End.
  DateTime get endsAt => DateTime.fromMillisecondsSinceEpoch(endsAtMs, isUtc: true);
}

/// A price in minor units as text, for example `25.00 EUR`.
String formatPrice(int minor, String currency) {
  final major = minor ~/ 100;
  final cents = (minor % 100).toString().padLeft(2, '0');
  return '$major.$cents $currency';
}
