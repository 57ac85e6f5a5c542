//! The IPv4 range a project lets in (`aws.allow_from`), as text in slipway.toml and as EC2
//! stores it.

use std::net::Ipv4Addr;

/// Parses an IPv4 CIDR ("203.0.113.7/32"), insisting on its canonical form, because EC2
/// stores rules in that form and a rule would otherwise never look equal to the wanted one.
pub fn parse_cidr(text: &str) -> Result<(Ipv4Addr, u8), String> {
    let explain = || {
        format!("\"{text}\" is not an IPv4 range such as 203.0.113.7/32 (one address) or 0.0.0.0/0 (everyone).")
    };
    let (addr, bits) = text.split_once('/').ok_or_else(explain)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| explain())?;
    let bits: u8 = bits.parse().map_err(|_| explain())?;
    if bits > 32 {
        return Err(explain());
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(bits))
    };
    let network = Ipv4Addr::from(u32::from(addr) & mask);
    if network != addr {
        return Err(format!(
            "\"{text}\" has bits set outside its /{bits} prefix; write it as {network}/{bits}."
        ));
    }
    Ok((addr, bits))
}

/// Whether a CIDR opens the port to the whole internet, for the warning.
pub fn is_everyone(cidr: &str) -> bool {
    matches!(parse_cidr(cidr), Ok((_, 0)))
}
