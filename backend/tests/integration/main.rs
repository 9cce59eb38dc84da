//! The server's integration suite: the real router, in-process, over real databases.
//! Every scenario runs on SQLite and on PostgreSQL (see `support::on_both!`).

mod support;

mod accounts;
mod attendees;
mod catalog;
mod check_ins;
mod checkout;
mod feed;
mod holds;
mod hostile;
mod identity;
mod live;
mod mail;
mod migrations;
mod notify;
mod oidc;
mod ops;
mod races;
mod refunds;
mod scanner;
mod search;
mod security;
mod stripe;
