//! Base45 (RFC 9285): the QR-alphanumeric encoding of the payload bytes.

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base45Error {
    #[error("character {ch:?} at position {pos} is not Base45")]
    BadChar { ch: char, pos: usize },
    #[error("Base45 text has a dangling single character at the end")]
    Dangling,
    #[error("Base45 group at position {pos} encodes a value out of range")]
    Overflow { pos: usize },
}

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() / 2 * 3 + 2);
    let mut push = |mut n: usize, digits: usize| {
        for _ in 0..digits {
            out.push(ALPHABET[n % 45] as char);
            n /= 45;
        }
    };
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => push(usize::from(a) * 256 + usize::from(b), 3),
            [a] => push(usize::from(a), 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        }
    }
    out
}

fn value(ch: char, pos: usize) -> Result<u32, Base45Error> {
    u8::try_from(ch)
        .ok()
        .and_then(|b| ALPHABET.iter().position(|&a| a == b))
        .map(|v| v as u32)
        .ok_or(Base45Error::BadChar { ch, pos })
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(chars.len() / 3 * 2 + 1);
    for (i, group) in chars.chunks(3).enumerate() {
        let pos = i * 3;
        let mut n = 0u32;
        let mut weight = 1u32;
        for (j, &c) in group.iter().enumerate() {
            n += value(c, pos + j)? * weight;
            weight *= 45;
        }
        match group.len() {
            3 if n <= 0xFFFF => out.extend_from_slice(&(n as u16).to_be_bytes()),
            2 if n <= 0xFF => out.push(n as u8),
            1 => return Err(Base45Error::Dangling),
            _ => return Err(Base45Error::Overflow { pos }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("GGW"), Err(Base45Error::Overflow { pos: 0 }));
        assert_eq!(decode("A"), Err(Base45Error::Dangling));
        assert!(matches!(
            decode("ab"),
            Err(Base45Error::BadChar { ch: 'a', pos: 0 })
        ));
    }

    proptest! {
        #[test]
        fn round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(s in "\\PC{0,64}") {
            let _ = decode(&s);
        }
    }
}
