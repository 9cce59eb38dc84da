import 'package:flutter/material.dart';
import 'package:flutter_attendee/src/app.dart';
import 'package:flutter_test/flutter_test.dart';

import 'fake_backend.dart';

void main() {
  testWidgets('the catalog lists events and the search field narrows them', (tester) async {
    await tester.pumpWidget(AttendeeApp(backend: FakeBackend(), locale: const Locale('en')));
    await tester.pumpAndSettle();
    expect(find.text('Concert'), findsOneWidget);
    expect(find.text('Opéra'), findsOneWidget);

    await tester.enterText(find.byKey(const Key('search')), 'conc');
    await tester.pumpAndSettle();
    expect(find.text('Concert'), findsOneWidget);
    expect(find.text('Opéra'), findsNothing);
  });

  testWidgets('book with a countdown, pay with the test card, show the QR', (tester) async {
    final backend = FakeBackend();
    await tester.pumpWidget(AttendeeApp(backend: backend, locale: const Locale('en')));
    await tester.pumpAndSettle();

    await tester.tap(find.text('Concert'));
    await tester.pumpAndSettle();
    expect(find.textContaining('7 left'), findsOneWidget);

    await tester.tap(find.byKey(const Key('book-e1-standing')));
    await tester.pumpAndSettle();
    await tester.tap(find.byKey(const Key('hold')));
    await tester.pump();
    await tester.pump();
    expect(find.textContaining('Held for you: 09:'), findsOneWidget);
    expect(find.text('Pay 25.00 EUR'), findsOneWidget);

    await tester.tap(find.byKey(const Key('pay')));
    await tester.pump();
    await tester.pump(const Duration(seconds: 2));
    expect(find.byKey(const Key('paid')), findsOneWidget);
    expect(backend.wallet, hasLength(1));

    await tester.pageBack();
    await tester.pumpAndSettle();
    await tester.pageBack();
    await tester.pumpAndSettle();
    await tester.tap(find.byIcon(Icons.confirmation_number));
    await tester.pumpAndSettle();
    // The wallet re-reads the tickets on pull to refresh.
    await tester.fling(find.byType(ListView).last, const Offset(0, 400), 1000);
    await tester.pumpAndSettle();
    await tester.tap(find.text('e1'));
    await tester.pumpAndSettle();
    expect(find.byKey(const Key('qr')), findsOneWidget);
  });

  testWidgets('offline after a sync: a banner, and the saved events stay', (tester) async {
    final backend = FakeBackend()..offline = true;
    await tester.pumpWidget(AttendeeApp(backend: backend, locale: const Locale('en')));
    await tester.pumpAndSettle();
    await tester.fling(find.text('Concert'), const Offset(0, 400), 1000);
    await tester.pumpAndSettle();
    expect(backend.syncs, 1);
    expect(find.textContaining('Offline'), findsOneWidget);
    expect(find.text('Concert'), findsOneWidget);
  });

  testWidgets('Arabic is right to left, French is translated', (tester) async {
    await tester.pumpWidget(AttendeeApp(backend: FakeBackend(), locale: const Locale('ar')));
    await tester.pumpAndSettle();
    expect(find.text('الفعاليات'), findsWidgets);
    final context = tester.element(find.byKey(const Key('search')));
    expect(Directionality.of(context), TextDirection.rtl);

    await tester.pumpWidget(AttendeeApp(backend: FakeBackend(), locale: const Locale('fr')));
    await tester.pumpAndSettle();
    expect(find.text('Événements'), findsWidgets);
    final context2 = tester.element(find.byKey(const Key('search')));
    expect(Directionality.of(context2), TextDirection.ltr);
  });
}
