//! Persisted operations, and the account's holds, orders and wallet tickets.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::Store;
use crate::Error;
use crate::model::booking::{Hold, HoldItem, HoldStatus, Order, OrderStatus, Ticket, TicketStatus};

/// An operation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRow {
    /// Id, also the idempotency key.
    pub id: String,
    /// The account it acts for.
    pub account_id: String,
    /// `hold`, `checkout`, `release_hold` or `refund`.
    pub kind: String,
    /// The request's arguments (JSON).
    pub request: String,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    /// Sends so far.
    pub attempts: i64,
    /// Once succeeded: the id of the hold or order it produced.
    pub result: Option<String>,
    /// The last error's code and message.
    pub error: Option<(String, String)>,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Last change, Unix ms.
    pub updated_at: i64,
}

/// What an operation ended with, written in one transaction with its effects.
#[derive(Debug)]
pub enum Completion<'a> {
    /// Done: the hold or order the server answered.
    Succeeded {
        /// A hold to save.
        hold: Option<&'a Hold>,
        /// An order to save (with its tickets).
        order: Option<&'a Order>,
        /// Save the order only if the account already holds it: an organizer refunding a
        /// buyer's order must not get the buyer's tickets in its own wallet.
        known_order_only: bool,
    },
    /// Refused for good.
    Failed {
        /// Error code.
        code: &'a str,
        /// Message.
        message: &'a str,
    },
}

const OPERATION_COLUMNS: &str = "id, account_id, kind, request, state, attempts, error_code, \
     error_message, created_at, updated_at, result";

fn operation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OperationRow> {
    let code: Option<String> = r.get(6)?;
    let message: Option<String> = r.get(7)?;
    Ok(OperationRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        kind: r.get(2)?,
        request: r.get(3)?,
        state: r.get(4)?,
        attempts: r.get(5)?,
        error: code.map(|c| (c, message.unwrap_or_default())),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        result: r.get(10)?,
    })
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Store {
    /// Writes a new pending operation (durably: `synchronous = FULL`) before it is sent.
    pub fn insert_operation(&mut self, row: &OperationRow) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO operations (id, account_id, kind, request, state, attempts,
                                     created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)",
            params![
                row.id,
                row.account_id,
                row.kind,
                row.request,
                row.created_at
            ],
        )?;
        Ok(())
    }

    /// One operation.
    pub fn operation(&self, id: &str) -> Result<Option<OperationRow>, Error> {
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM operations WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], operation_row).optional()?)
    }

    /// An account's operations in creation order, pending ones only if asked.
    pub fn operations(
        &self,
        account_id: &str,
        pending_only: bool,
    ) -> Result<Vec<OperationRow>, Error> {
        let sql = format!(
            "SELECT {OPERATION_COLUMNS} FROM operations
             WHERE account_id = ?1 AND (?2 = 0 OR state = 'pending')
             ORDER BY created_at, id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![account_id, pending_only], operation_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts a send of a pending operation.
    pub fn count_attempt(&mut self, id: &str, now_ms: i64) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE operations SET attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state = 'pending'",
            params![id, now_ms],
        )?;
        Ok(())
    }

    /// Notes why a send got no final answer; the operation stays pending.
    pub fn note_error(
        &mut self,
        id: &str,
        code: &str,
        message: &str,
        now_ms: i64,
    ) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE operations SET error_code = ?2, error_message = ?3, updated_at = ?4
             WHERE id = ?1 AND state = 'pending'",
            params![id, code, message, now_ms],
        )?;
        Ok(())
    }

    /// Ends an operation and saves its effects, in one transaction. `request` replaces the
    /// stored arguments (the payment token is dropped once it served).
    pub fn complete_operation(
        &mut self,
        id: &str,
        request: &str,
        completion: Completion<'_>,
        now_ms: i64,
    ) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        let account: String = tx.query_row(
            "SELECT account_id FROM operations WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        match completion {
            Completion::Succeeded {
                hold,
                order,
                known_order_only,
            } => {
                let result = hold.map(|h| &h.id).or(order.map(|o| &o.id));
                tx.execute(
                    "UPDATE operations SET state = 'succeeded', request = ?2, error_code = NULL,
                            error_message = NULL, updated_at = ?3, result = ?4
                     WHERE id = ?1",
                    params![id, request, now_ms, result],
                )?;
                if let Some(hold) = hold {
                    save_hold(&tx, &account, hold, now_ms)?;
                }
                if let Some(order) = order {
                    let known: bool = tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM orders WHERE id = ?1 AND account_id = ?2)",
                        params![order.id, account],
                        |r| r.get(0),
                    )?;
                    if known || !known_order_only {
                        save_order(&tx, &account, order)?;
                    }
                }
            }
            Completion::Failed { code, message } => {
                tx.execute(
                    "UPDATE operations SET state = 'failed', request = ?2, error_code = ?3,
                            error_message = ?4, updated_at = ?5
                     WHERE id = ?1",
                    params![id, request, code, message, now_ms],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Saves a hold as the server describes it now.
    pub fn upsert_hold(&mut self, account_id: &str, hold: &Hold, now_ms: i64) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        save_hold(&tx, account_id, hold, now_ms)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets a stored hold's status (a checkout converted it, a release ended it).
    pub fn set_hold_status(&mut self, id: &str, status: HoldStatus) -> Result<(), Error> {
        self.conn.execute(
            "UPDATE holds SET status = ?2 WHERE id = ?1",
            params![id, status.as_str()],
        )?;
        Ok(())
    }

    /// One of the account's holds.
    pub fn hold(&self, account_id: &str, id: &str) -> Result<Option<Hold>, Error> {
        self.conn
            .query_row(
                "SELECT id, event_id, status, total_minor, currency, expires_at, items
                 FROM holds WHERE account_id = ?1 AND id = ?2",
                params![account_id, id],
                hold_row,
            )
            .optional()?
            .map(parse_hold)
            .transpose()
    }

    /// The account's holds, newest first.
    pub fn holds(&self, account_id: &str) -> Result<Vec<Hold>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, event_id, status, total_minor, currency, expires_at, items
             FROM holds WHERE account_id = ?1 ORDER BY expires_at DESC, id",
        )?;
        let rows = stmt.query_map([account_id], hold_row)?;
        rows.map(|r| parse_hold(r?)).collect()
    }

    /// Saves the account's orders and tickets as the server holds them now. Orders are
    /// never deleted on the server, so nothing local is removed: an order a checkout saved
    /// while this sync's answer was in flight stays.
    pub fn save_orders(&mut self, account_id: &str, orders: &[Order]) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        for order in orders {
            save_order(&tx, account_id, order)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// One of the account's orders, with its tickets.
    pub fn order(&self, account_id: &str, id: &str) -> Result<Option<Order>, Error> {
        let order = self
            .conn
            .query_row(
                "SELECT id, event_id, status, total_minor, refunded_minor, currency, failure,
                        created_at
                 FROM orders WHERE account_id = ?1 AND id = ?2",
                params![account_id, id],
                order_row,
            )
            .optional()?;
        let Some(mut order) = order else {
            return Ok(None);
        };
        order.tickets = self
            .wallet(account_id)?
            .into_iter()
            .filter(|t| t.order_id == order.id)
            .collect();
        Ok(Some(order))
    }

    /// The account's orders, newest first, without their tickets (see [`Store::wallet`]).
    pub fn orders(&self, account_id: &str) -> Result<Vec<Order>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, event_id, status, total_minor, refunded_minor, currency, failure,
                    created_at
             FROM orders WHERE account_id = ?1 ORDER BY created_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([account_id], order_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The account's tickets, newest first.
    pub fn wallet(&self, account_id: &str) -> Result<Vec<Ticket>, Error> {
        let mut stmt = self.conn.prepare(
            "SELECT id, order_id, event_id, ticket_type_id, price_minor, status, credential,
                    issued_at
             FROM wallet_tickets WHERE account_id = ?1 ORDER BY issued_at DESC, id",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok(Ticket {
                id: r.get(0)?,
                order_id: r.get(1)?,
                event_id: r.get(2)?,
                ticket_type_id: r.get(3)?,
                price_minor: r.get(4)?,
                status: TicketStatus::parse(&r.get::<_, String>(5)?),
                credential: r.get(6)?,
                issued_at: instant(r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Forgets an account's holds, orders and wallet (on log-out).
    pub fn forget_account_data(&mut self, account_id: &str) -> Result<(), Error> {
        let tx = self.conn.transaction()?;
        for table in ["holds", "orders", "wallet_tickets"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE account_id = ?1"),
                [account_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

type HoldColumns = (String, String, String, i64, String, i64, String);

fn hold_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HoldColumns> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn parse_hold(
    (id, event_id, status, total_minor, currency, expires_at, items): HoldColumns,
) -> Result<Hold, Error> {
    let items: Vec<HoldItem> =
        serde_json::from_str(&items).map_err(|_| Error::Corrupt("hold lines"))?;
    Ok(Hold {
        id,
        event_id,
        status: HoldStatus::parse(&status),
        total_minor,
        currency,
        expires_at: instant(expires_at),
        items,
    })
}

fn order_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        id: r.get(0)?,
        event_id: r.get(1)?,
        status: OrderStatus::parse(&r.get::<_, String>(2)?),
        total_minor: r.get(3)?,
        refunded_minor: r.get(4)?,
        currency: r.get(5)?,
        failure: r.get(6)?,
        created_at: instant(r.get(7)?),
        tickets: Vec::new(),
    })
}

fn save_hold(tx: &Transaction<'_>, account: &str, hold: &Hold, now_ms: i64) -> Result<(), Error> {
    let items = serde_json::to_string(&hold.items).map_err(|_| Error::Corrupt("hold lines"))?;
    tx.execute(
        "INSERT INTO holds (id, account_id, event_id, status, total_minor, currency, expires_at,
                           items, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
             expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        params![
            hold.id,
            account,
            hold.event_id,
            hold.status.as_str(),
            hold.total_minor,
            hold.currency,
            millis(hold.expires_at),
            items,
            now_ms
        ],
    )?;
    Ok(())
}

fn save_order(tx: &Transaction<'_>, account: &str, order: &Order) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO orders (id, account_id, event_id, status, total_minor, refunded_minor,
                            currency, failure, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
             refunded_minor = excluded.refunded_minor, failure = excluded.failure",
        params![
            order.id,
            account,
            order.event_id,
            order.status.as_str(),
            order.total_minor,
            order.refunded_minor,
            order.currency,
            order.failure,
            millis(order.created_at)
        ],
    )?;
    for ticket in &order.tickets {
        tx.execute(
            "INSERT INTO wallet_tickets (id, account_id, order_id, event_id, ticket_type_id,
                                        price_minor, status, credential, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                 credential = excluded.credential",
            params![
                ticket.id,
                account,
                ticket.order_id,
                ticket.event_id,
                ticket.ticket_type_id,
                ticket.price_minor,
                ticket.status.as_str(),
                ticket.credential,
                millis(ticket.issued_at)
            ],
        )?;
    }
    Ok(())
}
