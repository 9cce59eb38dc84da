//! What a hold request must respect, line by line: the ticket type's sale window, its
//! maximum per order, and one currency per hold. The server refuses a hold with these
//! rules; a client can check a basket against the same ones before sending it.

/// A ticket type's terms of sale, as a hold line is checked against them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleTerms<'a> {
    /// Shown in messages ("at most 6 per order for Standing").
    pub name: &'a str,
    /// ISO 4217 code of its price.
    pub currency: &'a str,
    /// Sale opens (unix seconds, inclusive).
    pub sale_starts_at: i64,
    /// Sale closes (unix seconds, exclusive).
    pub sale_ends_at: i64,
    /// Most tickets of this type in one hold.
    pub max_per_order: i64,
}

/// Why a hold line breaks the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HoldRuleError {
    /// More of this type than one order may hold.
    #[error("at most {max} per order for {name}")]
    MaxPerOrder {
        /// The limit.
        max: i64,
        /// The ticket type.
        name: String,
    },
    /// Outside the type's sale window now.
    #[error("{name} is not on sale now")]
    NotOnSale {
        /// The ticket type.
        name: String,
    },
    /// The lines of one hold are priced in different currencies.
    #[error("all lines must share one currency")]
    MixedCurrencies,
}

impl HoldRuleError {
    /// The input field at fault, or `None` when the request is well formed but the state
    /// forbids it (a closed sale: `CONFLICT`, not `INVALID_INPUT`).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            HoldRuleError::MaxPerOrder { .. } => Some("quantity"),
            HoldRuleError::MixedCurrencies => Some("items"),
            HoldRuleError::NotOnSale { .. } => None,
        }
    }
}

/// Checks one line of `quantity` tickets at `now` (unix seconds), given the currency of
/// the lines before it (`None` for the first), in the order the server applies them:
/// maximum per order, sale window, currency.
pub fn check_hold_line(
    terms: &SaleTerms<'_>,
    quantity: i64,
    now: i64,
    currency_so_far: Option<&str>,
) -> Result<(), HoldRuleError> {
    if quantity > terms.max_per_order {
        return Err(HoldRuleError::MaxPerOrder {
            max: terms.max_per_order,
            name: terms.name.to_owned(),
        });
    }
    if now < terms.sale_starts_at || now >= terms.sale_ends_at {
        return Err(HoldRuleError::NotOnSale {
            name: terms.name.to_owned(),
        });
    }
    if currency_so_far.is_some_and(|c| c != terms.currency) {
        return Err(HoldRuleError::MixedCurrencies);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TERMS: SaleTerms<'static> = SaleTerms {
        name: "Standing",
        currency: "EUR",
        sale_starts_at: 100,
        sale_ends_at: 200,
        max_per_order: 6,
    };

    #[test]
    fn a_line_within_the_terms_passes_and_each_rule_refuses_in_order() {
        assert_eq!(check_hold_line(&TERMS, 6, 100, None), Ok(()));
        assert_eq!(check_hold_line(&TERMS, 1, 199, Some("EUR")), Ok(()));
        let too_many = check_hold_line(&TERMS, 7, 50, Some("USD")).unwrap_err();
        assert_eq!(too_many.to_string(), "at most 6 per order for Standing");
        assert_eq!(too_many.field(), Some("quantity"));
        for closed in [99, 200] {
            let error = check_hold_line(&TERMS, 1, closed, Some("USD")).unwrap_err();
            assert_eq!(error.to_string(), "Standing is not on sale now");
            assert_eq!(error.field(), None);
        }
        let mixed = check_hold_line(&TERMS, 1, 150, Some("USD")).unwrap_err();
        assert_eq!(mixed, HoldRuleError::MixedCurrencies);
        assert_eq!(mixed.field(), Some("items"));
    }
}
