import 'package:flutter/material.dart';
import 'package:guichet/guichet.dart';

import '../l10n/app_localizations.dart';
import 'backend.dart';
import 'errors.dart';

/// Signing in, creating an account, or signing out.
class SignInPage extends StatefulWidget {
  const SignInPage({super.key, required this.backend});

  final Backend backend;

  @override
  State<SignInPage> createState() => _SignInPageState();
}

class _SignInPageState extends State<SignInPage> {
  final _email = TextEditingController();
  final _password = TextEditingController();
  final _name = TextEditingController();
  late Future<Account?> _account = widget.backend.account();
  bool _creating = false;
  String? _message;

  @override
  void dispose() {
    _email.dispose();
    _password.dispose();
    _name.dispose();
    super.dispose();
  }

  Future<void> _submit() async {
    try {
      if (_creating) {
        await widget.backend.signUp(_email.text.trim(), _password.text, _name.text.trim());
      } else {
        await widget.backend.logIn(_email.text.trim(), _password.text);
      }
      if (mounted) Navigator.of(context).pop();
    } catch (error) {
      if (mounted) setState(() => _message = describeError(AppLocalizations.of(context), error));
    }
  }

  Future<void> _signOut() async {
    await widget.backend.logOut();
    setState(() => _account = widget.backend.account());
  }

  @override
  Widget build(BuildContext context) {
    final l10n = AppLocalizations.of(context);
    return Scaffold(
      appBar: AppBar(title: Text(_creating ? l10n.signUp : l10n.signIn)),
      body: FutureBuilder<Account?>(
        future: _account,
        builder: (context, snapshot) {
          final account = snapshot.data;
          if (account != null) {
            return ListView(
              padding: const EdgeInsets.all(16),
              children: [
                ListTile(title: Text(account.displayName), subtitle: Text(account.email)),
                OutlinedButton(onPressed: _signOut, child: Text(l10n.signOut)),
              ],
            );
          }
          return ListView(
            padding: const EdgeInsets.all(16),
            children: [
              TextField(
                controller: _email,
                keyboardType: TextInputType.emailAddress,
                decoration: InputDecoration(labelText: l10n.email),
              ),
              TextField(
                controller: _password,
                obscureText: true,
                decoration: InputDecoration(labelText: l10n.password),
              ),
              if (_creating)
                TextField(
                  controller: _name,
                  decoration: InputDecoration(labelText: l10n.displayName),
                ),
              const SizedBox(height: 16),
              FilledButton(
                onPressed: _submit,
                child: Text(_creating ? l10n.signUp : l10n.signIn),
              ),
              TextButton(
                onPressed: () => setState(() => _creating = !_creating),
                child: Text(_creating ? l10n.signIn : l10n.signUp),
              ),
              if (_message != null)
                Text(_message!, style: TextStyle(color: Theme.of(context).colorScheme.error)),
            ],
          );
        },
      ),
    );
  }
}
