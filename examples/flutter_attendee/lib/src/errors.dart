import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';

/// What to tell the attendee about a failure, by its kind.
String describeError(AppLocalizations l10n, Object error) {
  if (error is BridgeError) {
    switch (error.kind) {
      case ErrorKind.network:
        return l10n.errorNetwork;
      case ErrorKind.paymentDeclined:
        return l10n.errorDeclined;
      case ErrorKind.soldOut:
        return l10n.errorSoldOut;
      default:
        return l10n.errorGeneric(error.message);
    }
  }
  return l10n.errorGeneric(error.toString());
}

/// Whether the failure only means "no network".
bool isOffline(Object error) => error is BridgeError && error.kind == ErrorKind.network;
