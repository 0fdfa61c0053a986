//! Email addresses: the checks every recipient and the sender pass before they reach lettre. No line
//! breaks or control characters (header and SMTP command injection), no whitespace inside, a valid
//! local part and domain; surrounding whitespace is trimmed and the domain lowercased. Pure.

use lettre::Address;
use lettre::message::Mailbox;

use super::DeliveryError;

/// The longest address SMTP can carry (RFC 5321 path limit minus the angle brackets).
const MAX_ADDRESS_LEN: usize = 254;

/// Trims and checks an address for use as a recipient: no line breaks or control characters (header
/// injection), no whitespace inside, a valid local part and domain; the domain is lowercased.
/// Returns the normalised address (`Jane.Doe@Example.COM ` → `Jane.Doe@example.com`).
pub fn normalize(raw: &str) -> Result<String, DeliveryError> {
    parse_address(raw).map(|a| a.to_string())
}

pub(super) fn parse_address(raw: &str) -> Result<Address, DeliveryError> {
    check_address(raw).map_err(|reason| {
        DeliveryError::Config(format!(
            "the address {} is not usable: {reason}",
            crate::mask::email(raw)
        ))
    })
}

fn check_address(raw: &str) -> Result<Address, &'static str> {
    if raw.chars().any(|c| c == '\r' || c == '\n') {
        return Err("it contains a line break");
    }
    let trimmed = raw.trim();
    if trimmed.chars().any(char::is_control) {
        return Err("it contains a control character");
    }
    if trimmed.is_empty() {
        return Err("it is empty");
    }
    if trimmed.len() > MAX_ADDRESS_LEN {
        return Err("it is longer than 254 characters");
    }
    if trimmed.chars().any(char::is_whitespace) {
        return Err("it contains a space");
    }
    let Some((local, domain)) = trimmed.rsplit_once('@') else {
        return Err("it has no @");
    };
    if local.is_empty() || domain.is_empty() {
        return Err("it needs a name before and a domain after the @");
    }
    Address::new(local, domain.to_lowercase()).map_err(|e| match e {
        lettre::address::AddressError::InvalidUser => "the part before the @ is not valid",
        lettre::address::AddressError::InvalidDomain => "the domain is not valid",
        _ => "it is not an email address",
    })
}

/// `[delivery.email] from`: a bare address or `Name <address>`.
pub(super) fn parse_from(raw: &str) -> Result<Mailbox, DeliveryError> {
    let bad = |reason: &str| {
        DeliveryError::Config(format!(
            "[delivery.email] from {raw:?} is not usable: {reason}"
        ))
    };
    if raw.chars().any(char::is_control) {
        return Err(bad("it contains a line break or control character"));
    }
    let mailbox: Mailbox = raw.trim().parse().map_err(|e| bad(&format!("{e}")))?;
    let address = check_address(mailbox.email.as_ref()).map_err(bad)?;
    Ok(Mailbox::new(mailbox.name, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_the_domain_lowercased() {
        assert_eq!(
            normalize("  Jane.Doe@Example.COM \t").unwrap(),
            "Jane.Doe@example.com"
        );
        assert_eq!(normalize("x@b.co").unwrap(), "x@b.co");
    }

    #[test]
    fn header_injection_is_refused() {
        for raw in [
            "jane@example.com\r\nBcc: all@example.com",
            "jane@example.com\nBcc: all@example.com",
            "jane@example.com\r",
            "jane@exa\rmple.com",
            "jane\0@example.com",
        ] {
            let err = normalize(raw).unwrap_err();
            assert!(matches!(err, DeliveryError::Config(_)), "{raw:?}: {err}");
        }
        let err = normalize("jane@example.com\r\nBcc: x@y.z").unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
    }

    #[test]
    fn malformed_addresses_are_refused_with_the_reason() {
        for (raw, reason) in [
            ("", "empty"),
            ("   ", "empty"),
            ("jane.example.com", "no @"),
            ("@example.com", "before and a domain"),
            ("jane@", "before and a domain"),
            ("jane doe@example.com", "space"),
            ("jane@exa mple.com", "space"),
            ("jane,bob@example.com", "before the @"),
            ("<jane@example.com>", "not valid"),
            ("jane@example..com", "domain"),
        ] {
            let err = normalize(raw).unwrap_err().to_string();
            assert!(err.contains(reason), "{raw:?}: {err}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize(&long).unwrap_err().to_string().contains("254"));
    }

    #[test]
    fn a_refused_address_is_masked_in_the_error() {
        let err = normalize("jane.doe@example.com\nX: y")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("jane.doe"), "{err}");
        assert!(err.contains("j•••@"), "{err}");
    }

    #[test]
    fn from_accepts_a_display_name_and_refuses_line_breaks() {
        let mailbox = parse_from("IT Kiosk <Kiosk@Example.COM>").unwrap();
        assert_eq!(mailbox.email.to_string(), "Kiosk@example.com");
        assert_eq!(mailbox.name.as_deref(), Some("IT Kiosk"));
        assert!(parse_from("kiosk@example.com\r\nBcc: x@y.z").is_err());
        assert!(parse_from("not an address").is_err());
    }
}
