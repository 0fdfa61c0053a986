//! Masking contact details for screens and admin output: enough to recognise one's own address or
//! number, not enough to learn someone else's (`j•••@e•••.com`, `+49 ••• •••• 12`). Pure.

const DOT: char = '•';

/// `jane.doe@example.com` → `j•••@e•••.com`.
pub fn email(address: &str) -> String {
    let Some((local, domain)) = address.trim().rsplit_once('@') else {
        return "•••".to_owned();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let tld = if tld.is_empty() {
        String::new()
    } else {
        format!(".{tld}")
    };
    format!(
        "{}{DOT}{DOT}{DOT}@{}{DOT}{DOT}{DOT}{tld}",
        first(local),
        first(host)
    )
}

/// `+4915112345612` → `+49 ••• •••• 12`: the country code (as given) and the last two digits.
pub fn phone(number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "•••".to_owned();
    }
    let last = &digits[digits.len() - 2..];
    let country = if number.trim_start().starts_with('+') {
        format!("+{} ", &digits[..country_code_len(&digits)])
    } else {
        String::new()
    };
    format!("{country}{DOT}{DOT}{DOT} {DOT}{DOT}{DOT}{DOT} {last}")
}

/// Length of the E.164 country code at the start of `digits` (ITU zones: 1 and 7 are one digit;
/// 20, 27, 30–34, 36, 39, 40, 41, 43–49, 51–58, 60–66, 81, 82, 84, 86, 90–95, 98 are two; the rest three).
fn country_code_len(digits: &str) -> usize {
    let two: u32 = digits.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0);
    match digits.as_bytes().first() {
        Some(b'1' | b'7') => 1,
        _ if matches!(two, 20 | 27 | 30..=34 | 36 | 39 | 40 | 41 | 43..=49 | 51..=58 | 60..=66 | 81 | 82 | 84 | 86 | 90..=95 | 98) => {
            2
        }
        _ => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_keep_first_letters_and_tld() {
        assert_eq!(email("jane.doe@example.com"), "j•••@e•••.com");
        assert_eq!(email("x@localhost"), "x•••@l•••");
        assert_eq!(email("not-an-address"), "•••");
        assert!(!email("normal.user@example.test").contains("normal"));
    }

    #[test]
    fn phones_keep_country_code_and_last_two_digits() {
        assert_eq!(phone("+4915112345612"), "+49 ••• •••• 12");
        assert_eq!(phone("+1 555 010 0001"), "+1 ••• •••• 01");
        assert_eq!(phone("+353871234567"), "+353 ••• •••• 67");
        assert_eq!(phone("0151 1234 5678"), "••• •••• 78");
        assert_eq!(phone("123"), "•••");
    }
}
