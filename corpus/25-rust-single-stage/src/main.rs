//! tally: count words read from stdin, print them by descending count, then alphabetically.
use std::collections::HashMap;
use std::io::{self, Read};

fn tally(text: &str) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    let mut pairs: Vec<(String, usize)> = counts.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    pairs
}

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).expect("read stdin");
    for (word, n) in tally(&input) {
        println!("{} {}", n, word);
    }
}

#[cfg(test)]
mod tests {
    use super::tally;

    #[test]
    fn counts_and_orders() {
        let t = tally("b a b");
        assert_eq!(t, vec![("b".to_string(), 2), ("a".to_string(), 1)]);
    }
}
