//! Check-in lists: which tickets a door admits, where, and whether people may come back.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Which way a person goes through a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Coming in.
    Entry,
    /// Going out.
    Exit,
}

impl Direction {
    /// Stable lower-case name, as stored and serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Entry => "entry",
            Direction::Exit => "exit",
        }
    }

    /// Parses [`Direction::as_str`]'s output.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "entry" => Some(Direction::Entry),
            "exit" => Some(Direction::Exit),
            _ => None,
        }
    }
}

/// Why a check-in list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckInListError {
    /// The list admits no ticket type.
    #[error("a check-in list admits at least one ticket type")]
    NoTicketTypes,
    /// The list has no gate.
    #[error("a check-in list has at least one gate")]
    NoGates,
    /// A gate name is empty or longer than 100 characters.
    #[error("gate names are 1 to 100 characters")]
    GateName,
    /// The list's name is empty or longer than [`MAX_NAME_CHARS`].
    #[error("a check-in list's name is 1 to 100 characters")]
    Name,
    /// More than [`MAX_GATES`] gates.
    #[error("a check-in list has at most 100 gates")]
    TooManyGates,
    /// More than [`MAX_TICKET_TYPES`] ticket types.
    #[error("a check-in list admits at most 200 ticket types")]
    TooManyTicketTypes,
}

/// Longest list name, and longest gate name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most gates on one list.
pub const MAX_GATES: usize = 100;
/// Most ticket types one list admits.
pub const MAX_TICKET_TYPES: usize = 200;

impl CheckInListError {
    /// The input field at fault (`name`, `gates`, `ticketTypeIds`).
    pub fn field(&self) -> &'static str {
        match self {
            CheckInListError::Name => "name",
            CheckInListError::NoGates
            | CheckInListError::GateName
            | CheckInListError::TooManyGates => "gates",
            CheckInListError::NoTicketTypes | CheckInListError::TooManyTicketTypes => {
                "ticketTypeIds"
            }
        }
    }
}

/// The rules every check-in list meets, on the server when it is created and on a door
/// when it is loaded: a name of 1 to 100 characters, 1 to 100 gates named with 1 to 100
/// characters and no surrounding blanks, 1 to 200 ticket types. Callers trim what people
/// typed before asking.
pub fn check_list_rules(
    name: &str,
    gates: &BTreeSet<String>,
    ticket_types: usize,
) -> Result<(), CheckInListError> {
    let chars = name.chars().count();
    if name.trim() != name || chars == 0 || chars > MAX_NAME_CHARS {
        return Err(CheckInListError::Name);
    }
    if ticket_types == 0 {
        return Err(CheckInListError::NoTicketTypes);
    }
    if ticket_types > MAX_TICKET_TYPES {
        return Err(CheckInListError::TooManyTicketTypes);
    }
    if gates.is_empty() {
        return Err(CheckInListError::NoGates);
    }
    if gates.len() > MAX_GATES {
        return Err(CheckInListError::TooManyGates);
    }
    if gates
        .iter()
        .any(|g| g.is_empty() || g.trim() != g || g.chars().count() > MAX_NAME_CHARS)
    {
        return Err(CheckInListError::GateName);
    }
    Ok(())
}

/// A check-in list, as an organizer configures it and a scanner device is paired to it.
///
/// Every list records entries and exits; `re_entry` says whether a ticket that went out
/// may come back in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CheckInListFields", into = "CheckInListFields")]
pub struct CheckInList {
    fields: CheckInListFields,
}

/// The fields of a [`CheckInList`], before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInListFields {
    /// The list's id.
    pub id: Uuid,
    /// The event it checks in for.
    pub event_id: Uuid,
    /// Display name ("Main entrance, standing").
    pub name: String,
    /// Ticket types admitted.
    pub ticket_types: BTreeSet<Uuid>,
    /// Gates the list is used at.
    pub gates: BTreeSet<String>,
    /// Whether a ticket that exited may enter again.
    pub re_entry: bool,
}

impl TryFrom<CheckInListFields> for CheckInList {
    type Error = CheckInListError;

    fn try_from(fields: CheckInListFields) -> Result<Self, Self::Error> {
        check_list_rules(&fields.name, &fields.gates, fields.ticket_types.len())?;
        Ok(CheckInList { fields })
    }
}

impl From<CheckInList> for CheckInListFields {
    fn from(list: CheckInList) -> Self {
        list.fields
    }
}

impl CheckInList {
    /// Validates and builds a list.
    pub fn new(fields: CheckInListFields) -> Result<Self, CheckInListError> {
        Self::try_from(fields)
    }

    /// The list's fields.
    pub fn fields(&self) -> &CheckInListFields {
        &self.fields
    }

    /// The list's id.
    pub fn id(&self) -> Uuid {
        self.fields.id
    }

    /// The event it checks in for.
    pub fn event_id(&self) -> Uuid {
        self.fields.event_id
    }

    /// Whether the list admits this ticket type.
    pub fn admits_type(&self, ticket_type_id: &Uuid) -> bool {
        self.fields.ticket_types.contains(ticket_type_id)
    }

    /// Whether the list is used at this gate.
    pub fn has_gate(&self, gate: &str) -> bool {
        self.fields.gates.contains(gate)
    }

    /// Whether a ticket that exited may enter again.
    pub fn re_entry(&self) -> bool {
        self.fields.re_entry
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_list_rules_name_the_field_at_fault() {
        let gates = |names: &[&str]| names.iter().map(|g| g.to_string()).collect();
        let ok = gates(&["north"]);
        assert_eq!(check_list_rules("Main", &ok, 1), Ok(()));
        let cases = [
            (check_list_rules("", &ok, 1), CheckInListError::Name),
            (check_list_rules(" Main", &ok, 1), CheckInListError::Name),
            (
                check_list_rules(&"x".repeat(101), &ok, 1),
                CheckInListError::Name,
            ),
            (
                check_list_rules("Main", &ok, 0),
                CheckInListError::NoTicketTypes,
            ),
            (
                check_list_rules("Main", &ok, 201),
                CheckInListError::TooManyTicketTypes,
            ),
            (
                check_list_rules("Main", &gates(&[]), 1),
                CheckInListError::NoGates,
            ),
            (
                check_list_rules("Main", &gates(&[" north"]), 1),
                CheckInListError::GateName,
            ),
            (
                check_list_rules("Main", &gates(&[""]), 1),
                CheckInListError::GateName,
            ),
        ];
        for (result, expected) in cases {
            assert_eq!(result, Err(expected.clone()));
        }
        let many: BTreeSet<String> = (0..101).map(|i| format!("g{i}")).collect();
        assert_eq!(
            check_list_rules("Main", &many, 1),
            Err(CheckInListError::TooManyGates)
        );
        assert_eq!(CheckInListError::TooManyGates.field(), "gates");
        assert_eq!(CheckInListError::Name.field(), "name");
        assert_eq!(CheckInListError::NoTicketTypes.field(), "ticketTypeIds");
        assert_eq!(check_list_rules("Main", &gates(&["a"; 1]), 200), Ok(()));
    }

    fn fields() -> CheckInListFields {
        CheckInListFields {
            id: Uuid::from_u128(1),
            event_id: Uuid::from_u128(2),
            name: "Main".into(),
            ticket_types: [Uuid::from_u128(3)].into(),
            gates: ["north".to_string()].into(),
            re_entry: true,
        }
    }

    #[test]
    fn validates_types_and_gates() {
        let list = CheckInList::new(fields()).unwrap();
        assert!(list.admits_type(&Uuid::from_u128(3)));
        assert!(!list.admits_type(&Uuid::from_u128(4)));
        assert!(list.has_gate("north") && !list.has_gate("south"));
        let mut f = fields();
        f.ticket_types.clear();
        assert_eq!(CheckInList::new(f), Err(CheckInListError::NoTicketTypes));
        let mut f = fields();
        f.gates.clear();
        assert_eq!(CheckInList::new(f), Err(CheckInListError::NoGates));
        let mut f = fields();
        f.gates.insert("  ".into());
        assert_eq!(CheckInList::new(f), Err(CheckInListError::GateName));
    }

    #[test]
    fn json_is_validated() {
        let json = serde_json::to_string(&CheckInList::new(fields()).unwrap()).unwrap();
        assert!(serde_json::from_str::<CheckInList>(&json).is_ok());
        let no_gates = json.replace("[\"north\"]", "[]");
        let refused = serde_json::from_str::<CheckInList>(&no_gates).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&CheckInListError::NoGates.to_string()),
            "{refused}"
        );
    }

    #[test]
    fn direction_names_round_trip() {
        for d in [Direction::Entry, Direction::Exit] {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        assert_eq!(Direction::parse("in"), None);
    }
}
