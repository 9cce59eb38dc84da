//! The event configuration a scanner is paired with: key ring, check-in list, revocations.

use std::collections::BTreeSet;

use guichet_domain::checkin::{CheckInList, CheckInListFields};
use guichet_domain::keyring::{EventKeyRing, KeyId, KeyStatus, public_key_from_bytes};
use guichet_domain::revocation::RevocationSet;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Store, uuid_column};
use crate::Error;

/// What a door needs before any ticket shows up. This is also the scanner's configuration
/// file format (JSON): it holds public keys only; private signing keys never reach a
/// scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventConfig {
    /// The event's public keys.
    pub keys: EventKeyRing,
    /// The check-in list the device is paired to.
    pub list: CheckInList,
    /// Tickets revoked so far.
    #[serde(default)]
    pub revocations: RevocationSet,
}

impl Store {
    /// Pairs the device with an event configuration: replaces the event's keys and the
    /// paired list, and adds the revocations (revocations only ever grow).
    pub fn save_event_config(&mut self, config: &EventConfig) -> Result<(), Error> {
        if config.keys.event_id() != config.list.event_id() {
            return Err(Error::Config(
                "keys and check-in list are for different events".into(),
            ));
        }
        let event = config.keys.event_id();
        let list = config.list.fields();
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM event_keys WHERE event_id = ?1",
            [event.as_bytes()],
        )?;
        for key in config.keys.keys() {
            tx.execute(
                "INSERT INTO event_keys (event_id, key_id, public_key, status)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    event.as_bytes(),
                    key.key_id.0,
                    key.public_key.as_bytes(),
                    key.status.as_str()
                ],
            )?;
        }
        for ticket in config.revocations.iter() {
            tx.execute(
                "INSERT INTO revocations (ticket_id, event_id) VALUES (?1, ?2)
                 ON CONFLICT (ticket_id) DO NOTHING",
                [ticket.as_bytes(), event.as_bytes()],
            )?;
        }
        tx.execute("UPDATE device SET list_id = NULL", [])?;
        tx.execute(
            "DELETE FROM checkin_lists WHERE id = ?1",
            [list.id.as_bytes()],
        )?;
        tx.execute(
            "INSERT INTO checkin_lists (id, event_id, name, re_entry) VALUES (?1, ?2, ?3, ?4)",
            params![
                list.id.as_bytes(),
                list.event_id.as_bytes(),
                list.name,
                list.re_entry
            ],
        )?;
        for ticket_type in &list.ticket_types {
            tx.execute(
                "INSERT INTO checkin_list_ticket_types (list_id, ticket_type_id) VALUES (?1, ?2)",
                [list.id.as_bytes(), ticket_type.as_bytes()],
            )?;
        }
        for gate in &list.gates {
            tx.execute(
                "INSERT INTO checkin_list_gates (list_id, gate) VALUES (?1, ?2)",
                params![list.id.as_bytes(), gate],
            )?;
        }
        tx.execute("UPDATE device SET list_id = ?1", [list.id.as_bytes()])?;
        tx.commit()?;
        Ok(())
    }

    #[cfg(any(test, feature = "internals"))]
    /// Revokes a ticket (a revocation synced or entered by staff).
    pub fn revoke(&mut self, event_id: Uuid, ticket_id: Uuid) -> Result<(), Error> {
        self.conn.execute(
            "INSERT INTO revocations (ticket_id, event_id) VALUES (?1, ?2)
             ON CONFLICT (ticket_id) DO NOTHING",
            [ticket_id.as_bytes(), event_id.as_bytes()],
        )?;
        Ok(())
    }

    /// The configuration the device is paired with, if any.
    pub fn load_event_config(&self) -> Result<Option<EventConfig>, Error> {
        let list_id: Option<Uuid> = self
            .conn
            .query_row(
                "SELECT list_id FROM device WHERE list_id IS NOT NULL",
                [],
                |r| uuid_column(r, 0),
            )
            .optional()?;
        let Some(list_id) = list_id else {
            return Ok(None);
        };
        let list = self.load_list(list_id)?;
        let event = list.event_id();
        let mut keys = EventKeyRing::new(event);
        let mut stmt = self.conn.prepare(
            "SELECT key_id, public_key, status FROM event_keys WHERE event_id = ?1 ORDER BY key_id",
        )?;
        let rows = stmt.query_map([event.as_bytes()], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, [u8; 32]>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (key_id, public_key, status) = row?;
            let public_key =
                public_key_from_bytes(&public_key).map_err(|_| Error::Corrupt("public key"))?;
            let status = KeyStatus::parse(&status).ok_or(Error::Corrupt("key status"))?;
            keys.insert(KeyId(key_id), public_key, status)
                .map_err(|_| Error::Corrupt("key ring"))?;
        }
        let mut stmt = self
            .conn
            .prepare("SELECT ticket_id FROM revocations WHERE event_id = ?1")?;
        let revocations = stmt
            .query_map([event.as_bytes()], |r| uuid_column(r, 0))?
            .collect::<Result<RevocationSet, _>>()?;
        Ok(Some(EventConfig {
            keys,
            list,
            revocations,
        }))
    }

    fn load_list(&self, id: Uuid) -> Result<CheckInList, Error> {
        let (event_id, name, re_entry) = self.conn.query_row(
            "SELECT event_id, name, re_entry FROM checkin_lists WHERE id = ?1",
            [id.as_bytes()],
            |r| {
                Ok((
                    uuid_column(r, 0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            },
        )?;
        let mut stmt = self
            .conn
            .prepare("SELECT ticket_type_id FROM checkin_list_ticket_types WHERE list_id = ?1")?;
        let ticket_types = stmt
            .query_map([id.as_bytes()], |r| uuid_column(r, 0))?
            .collect::<Result<BTreeSet<_>, _>>()?;
        let mut stmt = self
            .conn
            .prepare("SELECT gate FROM checkin_list_gates WHERE list_id = ?1")?;
        let gates = stmt
            .query_map([id.as_bytes()], |r| r.get::<_, String>(0))?
            .collect::<Result<BTreeSet<_>, _>>()?;
        let fields = CheckInListFields {
            id,
            event_id,
            name,
            ticket_types,
            gates,
            re_entry,
        };
        CheckInList::new(fields).map_err(|_| Error::Corrupt("check-in list"))
    }
}
