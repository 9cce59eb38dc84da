//! Where a ticket is, as far as a door's scan history tells.

use serde::{Deserialize, Serialize};

use crate::checkin::Direction;

/// A ticket's presence, folded from its admitted scans in order.
///
/// Stores keep this summary next to each known ticket and update it in the same
/// transaction as the scan, so a decision reads one row instead of the whole history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Presence {
    /// Admitted entries so far.
    pub entries: u32,
    /// Whether the last admitted scan was an entry.
    pub inside: bool,
}

impl Presence {
    /// Never scanned in.
    pub const NEVER_SEEN: Presence = Presence {
        entries: 0,
        inside: false,
    };

    /// The presence after an admitted scan in `direction`.
    pub fn after(self, direction: Direction) -> Presence {
        match direction {
            Direction::Entry => Presence {
                entries: self.entries.saturating_add(1),
                inside: true,
            },
            Direction::Exit => Presence {
                entries: self.entries,
                inside: false,
            },
        }
    }

    /// Folds a history of admitted scans, oldest first.
    pub fn from_history(admitted: impl IntoIterator<Item = Direction>) -> Presence {
        admitted
            .into_iter()
            .fold(Presence::NEVER_SEEN, Presence::after)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use Direction::{Entry, Exit};

    #[test]
    fn folds_entries_and_exits() {
        assert_eq!(Presence::from_history([]), Presence::NEVER_SEEN);
        assert_eq!(
            Presence::from_history([Entry]),
            Presence {
                entries: 1,
                inside: true
            }
        );
        assert_eq!(
            Presence::from_history([Entry, Exit]),
            Presence {
                entries: 1,
                inside: false
            }
        );
        assert_eq!(
            Presence::from_history([Entry, Exit, Entry]),
            Presence {
                entries: 2,
                inside: true
            }
        );
    }
}
