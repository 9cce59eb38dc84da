//! The server's verdict on each scan of a ticket, folded from every door's scans: the one
//! classification the server stores and every door receives, and the refusal an online
//! door shows. Doors decide offline with the same entry rule ([`Presence::refuses_entry`]),
//! so a door and the server cannot disagree on what a second entry is.

use serde::{Deserialize, Serialize};

use super::{Presence, ScanRejection};
use crate::checkin::Direction;

/// The server's classification of one scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanClass {
    /// An admitted entry that counts: the ticket went in.
    Admitted,
    /// An admitted entry while the ticket was inside, or after an entry on a list without
    /// re-entry: someone got in twice.
    DuplicateEntry,
    /// An admitted exit.
    Exited,
    /// The door refused the scan.
    Rejected,
}

impl ScanClass {
    /// The stored and wire spelling (`admitted`, `duplicate_entry`, `exited`, `rejected`).
    pub fn as_str(self) -> &'static str {
        match self {
            ScanClass::Admitted => "admitted",
            ScanClass::DuplicateEntry => "duplicate_entry",
            ScanClass::Exited => "exited",
            ScanClass::Rejected => "rejected",
        }
    }

    /// Reads the stored spelling.
    pub fn parse(name: &str) -> Option<ScanClass> {
        [
            ScanClass::Admitted,
            ScanClass::DuplicateEntry,
            ScanClass::Exited,
            ScanClass::Rejected,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

impl Presence {
    /// The refusal one more entry gets, if any: `already_inside` while inside, else
    /// `already_used` after an entry on a list without re-entry. The door's offline
    /// decision, the server's online one and the classification all use this rule.
    pub fn refuses_entry(self, re_entry: bool) -> Option<ScanRejection> {
        if self.inside {
            Some(ScanRejection::AlreadyInside)
        } else if self.entries > 0 && !re_entry {
            Some(ScanRejection::AlreadyUsed)
        } else {
            None
        }
    }
}

/// Classifies one ticket's scans, given as (admitted by the door, direction) in the
/// server's order (device time, then scan id). An admitted entry the entry rule refuses
/// is a duplicate and leaves the presence as it was; an admitted exit leaves the ticket
/// outside. Returns the classes in input order and the presence after the last scan.
pub fn classify(
    scans: impl IntoIterator<Item = (bool, Direction)>,
    re_entry: bool,
) -> (Vec<ScanClass>, Presence) {
    let mut presence = Presence::NEVER_SEEN;
    let classes = scans
        .into_iter()
        .map(|(admitted, direction)| match (admitted, direction) {
            (false, _) => ScanClass::Rejected,
            (true, Direction::Exit) => {
                presence = presence.after(Direction::Exit);
                ScanClass::Exited
            }
            (true, Direction::Entry) if presence.refuses_entry(re_entry).is_some() => {
                ScanClass::DuplicateEntry
            }
            (true, Direction::Entry) => {
                presence = presence.after(Direction::Entry);
                ScanClass::Admitted
            }
        })
        .collect();
    (classes, presence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Entry, Exit};
    use ScanClass::{Admitted, DuplicateEntry, Exited, Rejected};

    const IN: (bool, Direction) = (true, Entry);
    const OUT: (bool, Direction) = (true, Exit);
    const REFUSED: (bool, Direction) = (false, Entry);

    /// (scans, classes without re-entry, classes with re-entry)
    #[allow(clippy::type_complexity)]
    const CASES: &[(&[(bool, Direction)], &[ScanClass], &[ScanClass])] = &[
        (&[], &[], &[]),
        (&[IN], &[Admitted], &[Admitted]),
        (
            &[IN, IN],
            &[Admitted, DuplicateEntry],
            &[Admitted, DuplicateEntry],
        ),
        (
            &[IN, REFUSED, OUT, IN],
            &[Admitted, Rejected, Exited, DuplicateEntry],
            &[Admitted, Rejected, Exited, Admitted],
        ),
        (&[OUT, IN], &[Exited, Admitted], &[Exited, Admitted]),
        (&[REFUSED, IN], &[Rejected, Admitted], &[Rejected, Admitted]),
        (
            &[IN, IN, OUT, IN],
            &[Admitted, DuplicateEntry, Exited, DuplicateEntry],
            &[Admitted, DuplicateEntry, Exited, Admitted],
        ),
        (
            (&[(false, Exit), IN]),
            &[Rejected, Admitted],
            &[Rejected, Admitted],
        ),
    ];

    #[test]
    fn the_table_of_cases() {
        for (scans, without, with) in CASES {
            let run = |re_entry| classify(scans.iter().copied(), re_entry).0;
            assert_eq!(run(false), *without, "{scans:?} without re-entry");
            assert_eq!(run(true), *with, "{scans:?} with re-entry");
        }
    }

    #[test]
    fn the_final_presence_names_the_refusal_of_the_next_entry() {
        let (_, inside) = classify([IN], true);
        assert_eq!(
            inside.refuses_entry(true),
            Some(ScanRejection::AlreadyInside)
        );
        assert_eq!(
            inside.refuses_entry(false),
            Some(ScanRejection::AlreadyInside)
        );
        let (_, out) = classify([IN, OUT], true);
        assert_eq!(out.refuses_entry(true), None);
        assert_eq!(out.refuses_entry(false), Some(ScanRejection::AlreadyUsed));
        // A duplicate entry after an exit does not put the ticket back inside.
        let (_, after_duplicate) = classify([IN, OUT, IN], false);
        assert!(!after_duplicate.inside);
        assert_eq!(Presence::NEVER_SEEN.refuses_entry(false), None);
    }

    #[test]
    fn classes_keep_their_stored_spelling() {
        for class in [Admitted, DuplicateEntry, Exited, Rejected] {
            assert_eq!(ScanClass::parse(class.as_str()), Some(class));
        }
        assert_eq!(ScanClass::parse("ADMITTED"), None);
    }
}
