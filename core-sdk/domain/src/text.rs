//! Text folding for search: the same tokens on the server, in the SDK's offline index and in a
//! query, so that "Éte" finds "été" everywhere.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds text for matching: compatibility decomposition, combining marks removed, lower case.
/// `"Fête à Zürich"` → `"fete a zurich"`.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folded search tokens: runs of alphanumeric characters. Punctuation and operators never reach
/// a full-text engine, so user input cannot change a query's syntax.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The indexed form of a document: its folded tokens joined by single spaces.
pub fn index_text(parts: &[&str]) -> String {
    parts
        .iter()
        .flat_map(|p| tokens(p))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_ligatures() {
        assert_eq!(fold("Fête à Zürich"), "fete a zurich");
        assert_eq!(fold("ÉTÉ"), "ete");
        assert_eq!(fold("ﬁnale"), "finale");
    }

    #[test]
    fn tokens_drop_operators_and_quotes() {
        assert_eq!(
            tokens("\"jazz\"* OR 1=1; --drop"),
            vec!["jazz", "or", "1", "1", "drop"]
        );
        assert!(tokens("  ** ").is_empty());
    }

    #[test]
    fn index_text_joins_parts() {
        assert_eq!(index_text(&["Nuit Électro", "Lyon"]), "nuit electro lyon");
    }
}
