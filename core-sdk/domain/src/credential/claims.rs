//! What a credential asserts about a ticket.

use uuid::Uuid;

/// Why a validity window was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidityError {
    /// A bound before 1970-01-01 or after 2106-02-07 (the credential stores u32 seconds).
    #[error("validity bounds must lie between 1970 and 2106")]
    OutOfRange,
    /// The window ends at or before its start.
    #[error("validity window must end after it starts")]
    Empty,
}

/// When a ticket admits: from `from` (inclusive) until `until` (exclusive), unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "ValidityFields", try_from = "ValidityFields")]
pub struct Validity {
    from: u32,
    until: u32,
}

/// A window as plain numbers, checked by [`Validity::new`] when read back.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct ValidityFields {
    from: i64,
    until: i64,
}

impl From<Validity> for ValidityFields {
    fn from(v: Validity) -> ValidityFields {
        ValidityFields {
            from: v.from(),
            until: v.until(),
        }
    }
}

impl TryFrom<ValidityFields> for Validity {
    type Error = ValidityError;
    fn try_from(v: ValidityFields) -> Result<Validity, ValidityError> {
        Validity::new(v.from, v.until)
    }
}

/// Where `now` falls relative to a validity window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPosition {
    /// Before the window opens.
    Before,
    /// Inside the window.
    Within,
    /// At or after the window's end.
    After,
}

impl Validity {
    /// Builds a window from unix seconds.
    pub fn new(from: i64, until: i64) -> Result<Self, ValidityError> {
        let from = u32::try_from(from).map_err(|_| ValidityError::OutOfRange)?;
        let until = u32::try_from(until).map_err(|_| ValidityError::OutOfRange)?;
        Self::from_raw(from, until)
    }

    pub(crate) fn from_raw(from: u32, until: u32) -> Result<Self, ValidityError> {
        if until <= from {
            return Err(ValidityError::Empty);
        }
        Ok(Validity { from, until })
    }

    /// First second of validity (unix seconds).
    pub fn from(&self) -> i64 {
        i64::from(self.from)
    }

    /// First second after the window (unix seconds).
    pub fn until(&self) -> i64 {
        i64::from(self.until)
    }

    pub(crate) fn raw(&self) -> (u32, u32) {
        (self.from, self.until)
    }

    /// Where `now` (unix seconds) falls.
    pub fn position(&self, now: i64) -> WindowPosition {
        if now < self.from() {
            WindowPosition::Before
        } else if now >= self.until() {
            WindowPosition::After
        } else {
            WindowPosition::Within
        }
    }
}

/// The facts a credential certifies. No personal data: ids and a window only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct TicketClaims {
    /// The ticket.
    pub ticket_id: Uuid,
    /// The event it admits to.
    pub event_id: Uuid,
    /// Its ticket type, which check-in lists select on.
    pub ticket_type_id: Uuid,
    /// When it admits.
    pub validity: Validity,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_back_only_when_valid() {
        let window = Validity::new(100, 200).unwrap();
        let json = serde_json::to_string(&window).unwrap();
        assert_eq!(json, r#"{"from":100,"until":200}"#);
        assert_eq!(serde_json::from_str::<Validity>(&json).unwrap(), window);
        let refused = serde_json::from_str::<Validity>(r#"{"from":200,"until":200}"#).unwrap_err();
        assert!(
            refused
                .to_string()
                .starts_with(&ValidityError::Empty.to_string()),
            "{refused}"
        );
    }

    #[test]
    fn window_bounds() {
        let v = Validity::new(100, 200).unwrap();
        assert_eq!(v.position(99), WindowPosition::Before);
        assert_eq!(v.position(100), WindowPosition::Within);
        assert_eq!(v.position(199), WindowPosition::Within);
        assert_eq!(v.position(200), WindowPosition::After);
        assert_eq!(v.position(i64::MIN), WindowPosition::Before);
        assert_eq!(v.position(i64::MAX), WindowPosition::After);
    }

    #[test]
    fn refuses_empty_and_out_of_range_windows() {
        assert_eq!(Validity::new(200, 200), Err(ValidityError::Empty));
        assert_eq!(Validity::new(300, 200), Err(ValidityError::Empty));
        assert_eq!(Validity::new(-1, 200), Err(ValidityError::OutOfRange));
        assert_eq!(Validity::new(0, 1 << 32), Err(ValidityError::OutOfRange));
        assert!(Validity::new(0, u32::MAX.into()).is_ok());
    }
}
