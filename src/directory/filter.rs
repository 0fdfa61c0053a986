//! LDAP search filters built from untrusted input, escaped as RFC 4515 requires: a typed username can
//! never change the shape of the filter (`*`, `(`, `)`, `\`, NUL and non-ASCII bytes are escaped).

/// Escapes a value for use inside an RFC 4515 filter assertion.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'*' | b'(' | b')' | b'\\' | 0 => out.push_str(&format!("\\{byte:02x}")),
            0x80..=0xff => out.push_str(&format!("\\{byte:02x}")),
            _ => out.push(char::from(byte)),
        }
    }
    out
}

/// `(&BASE(|(a1=v)(a2=v)…))`: the user filter AND any of the attributes equal to `value`.
/// `attributes` come from validated configuration; `value` from the person at the kiosk.
pub fn any_attribute_equals(base: &str, attributes: &[String], value: &str) -> String {
    let value = escape(value);
    let alternatives: String = attributes
        .iter()
        .map(|a| format!("({a}={value})"))
        .collect();
    match attributes.len() {
        1 => format!("(&{base}{alternatives})"),
        _ => format!("(&{base}(|{alternatives}))"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape("alice"), "alice");
        assert_eq!(escape("*"), "\\2a");
        assert_eq!(escape("a)(uid=*"), "a\\29\\28uid=\\2a");
        assert_eq!(escape("x\\y"), "x\\5cy");
        assert_eq!(escape("nul\0"), "nul\\00");
        assert_eq!(escape("jürgen"), "j\\c3\\bcrgen");
    }

    #[test]
    fn filters_match_any_identifier() {
        let attrs = vec!["uid".to_owned(), "mail".to_owned()];
        assert_eq!(
            any_attribute_equals("(objectClass=inetOrgPerson)", &attrs, "bob*"),
            "(&(objectClass=inetOrgPerson)(|(uid=bob\\2a)(mail=bob\\2a)))"
        );
        assert_eq!(
            any_attribute_equals("(objectClass=user)", &attrs[..1], "x"),
            "(&(objectClass=user)(uid=x))"
        );
    }

    #[test]
    fn an_escaped_value_never_closes_the_filter() {
        for hostile in ["*)(objectClass=*", ")(|(uid=*", "\\29", "\0", "a*b(c)d\\e"] {
            let escaped = escape(hostile);
            assert!(
                !escaped.contains(['(', ')', '*', '\0']),
                "{hostile:?} -> {escaped}"
            );
        }
    }
}
