//! Revoked tickets: refunded, cancelled or re-issued. A revoked ticket is refused at every
//! door, whatever its signature says.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The set of revoked ticket ids a door knows about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevocationSet {
    tickets: HashSet<Uuid>,
}

impl RevocationSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes a ticket; returns whether it was newly revoked.
    pub fn revoke(&mut self, ticket_id: Uuid) -> bool {
        self.tickets.insert(ticket_id)
    }

    /// Whether the ticket is revoked.
    pub fn contains(&self, ticket_id: &Uuid) -> bool {
        self.tickets.contains(ticket_id)
    }

    /// How many tickets are revoked.
    pub fn len(&self) -> usize {
        self.tickets.len()
    }

    /// Whether nothing is revoked.
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    /// The revoked ticket ids, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Uuid> {
        self.tickets.iter()
    }
}

impl FromIterator<Uuid> for RevocationSet {
    fn from_iter<I: IntoIterator<Item = Uuid>>(iter: I) -> Self {
        RevocationSet {
            tickets: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn revoke_is_idempotent_and_serialises_as_a_list() {
        let mut set = RevocationSet::new();
        assert!(set.is_empty());
        assert!(set.revoke(Uuid::from_u128(1)));
        assert!(!set.revoke(Uuid::from_u128(1)));
        assert!(set.contains(&Uuid::from_u128(1)));
        assert!(!set.contains(&Uuid::from_u128(2)));
        assert_eq!(set.len(), 1);
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, "[\"00000000-0000-0000-0000-000000000001\"]");
        assert_eq!(serde_json::from_str::<RevocationSet>(&json).unwrap(), set);
    }
}
