//! A small backtracking matcher for the regular expressions this module writes into profiles,
//! so tests check what a regex *matches*, not only how it is spelled.
//!
//! Supported: `^`, `$`, literal characters, `\x` escapes, `.`, bracket expressions (negation,
//! ranges, `[:class:]`), groups with `|`, and the postfix operators `?`, `*`, `+`. Like
//! Seatbelt, a regex matches anywhere unless anchored. Anything else panics: a test must not
//! silently pass on syntax the matcher does not understand.

#[derive(Debug, Clone)]
enum Node {
    Character(char),
    Any,
    Class {
        negated: bool,
        items: Vec<ClassItem>,
    },
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: Option<usize>,
    },
    Start,
    End,
}

#[derive(Debug, Clone)]
enum ClassItem {
    Character(char),
    Range(char, char),
    Posix(String),
}

/// True when `regex` matches somewhere in `text`.
pub(crate) fn is_match(regex: &str, text: &str) -> bool {
    let characters: Vec<char> = regex.chars().collect();
    let mut position = 0;
    let alternatives = parse_alternatives(&characters, &mut position);
    assert_eq!(position, characters.len(), "unbalanced `)` in {regex}");
    let nodes = vec![Node::Group(alternatives)];
    let input: Vec<char> = text.chars().collect();
    (0..=input.len()).any(|start| match_nodes(&nodes, &input, start, &|_| true))
}

fn parse_alternatives(characters: &[char], position: &mut usize) -> Vec<Vec<Node>> {
    let mut alternatives = vec![Vec::new()];
    while let Some(&character) = characters.get(*position) {
        let node = match character {
            ')' => break,
            '|' => {
                alternatives.push(Vec::new());
                *position += 1;
                continue;
            }
            '(' => {
                *position += 1;
                let inner = parse_alternatives(characters, position);
                assert_eq!(characters.get(*position), Some(&')'), "unclosed `(`");
                *position += 1;
                Node::Group(inner)
            }
            '[' => parse_class(characters, position),
            '\\' => {
                let escaped = *characters.get(*position + 1).expect("dangling `\\`");
                *position += 2;
                Node::Character(escaped)
            }
            '.' => {
                *position += 1;
                Node::Any
            }
            '^' => {
                *position += 1;
                Node::Start
            }
            '$' => {
                *position += 1;
                Node::End
            }
            '?' | '*' | '+' => {
                let last = alternatives
                    .last_mut()
                    .and_then(Vec::pop)
                    .expect("quantifier without operand");
                *position += 1;
                let (min, max) = match character {
                    '?' => (0, Some(1)),
                    '*' => (0, None),
                    _ => (1, None),
                };
                Node::Repeat {
                    node: Box::new(last),
                    min,
                    max,
                }
            }
            '{' | '}' | ']' => panic!("unsupported regex syntax `{character}`"),
            plain => {
                *position += 1;
                Node::Character(plain)
            }
        };
        if let Some(current) = alternatives.last_mut() {
            current.push(node);
        }
    }
    alternatives
}

fn parse_class(characters: &[char], position: &mut usize) -> Node {
    let mut index = *position + 1;
    let negated = characters.get(index) == Some(&'^');
    if negated {
        index += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let character = *characters.get(index).expect("unclosed `[`");
        if character == ']' && !first {
            break;
        }
        first = false;
        if character == '[' && characters.get(index + 1) == Some(&':') {
            let close = (index + 2..characters.len())
                .find(|&at| characters[at] == ':')
                .expect("unclosed `[:`");
            items.push(ClassItem::Posix(
                characters[index + 2..close].iter().collect(),
            ));
            index = close + 2;
            continue;
        }
        if characters.get(index + 1) == Some(&'-')
            && characters.get(index + 2).is_some_and(|end| *end != ']')
        {
            items.push(ClassItem::Range(character, characters[index + 2]));
            index += 3;
            continue;
        }
        items.push(ClassItem::Character(character));
        index += 1;
    }
    *position = index + 1;
    Node::Class { negated, items }
}

fn class_matches(negated: bool, items: &[ClassItem], character: char) -> bool {
    let member = items.iter().any(|item| match item {
        ClassItem::Character(member) => *member == character,
        ClassItem::Range(start, end) => (*start..=*end).contains(&character),
        ClassItem::Posix(name) => match name.as_str() {
            "alpha" => character.is_ascii_alphabetic(),
            "digit" => character.is_ascii_digit(),
            "alnum" => character.is_ascii_alphanumeric(),
            "upper" => character.is_ascii_uppercase(),
            "lower" => character.is_ascii_lowercase(),
            "space" => character.is_ascii_whitespace(),
            "xdigit" => character.is_ascii_hexdigit(),
            "punct" => character.is_ascii_punctuation(),
            other => panic!("unsupported class [:{other}:]"),
        },
    });
    member != negated
}

fn match_nodes(nodes: &[Node], input: &[char], at: usize, next: &dyn Fn(usize) -> bool) -> bool {
    let Some((node, rest)) = nodes.split_first() else {
        return next(at);
    };
    let then = |end: usize| match_nodes(rest, input, end, next);
    match node {
        Node::Character(expected) => input.get(at) == Some(expected) && then(at + 1),
        Node::Any => at < input.len() && then(at + 1),
        Node::Class { negated, items } => {
            input
                .get(at)
                .is_some_and(|character| class_matches(*negated, items, *character))
                && then(at + 1)
        }
        Node::Start => at == 0 && then(at),
        Node::End => at == input.len() && then(at),
        Node::Group(alternatives) => alternatives
            .iter()
            .any(|alternative| match_nodes(alternative, input, at, &then)),
        Node::Repeat { node, min, max } => repeat(node, *min, *max, 0, input, at, &then),
    }
}

/// Greedy repetition of `node`, at least `min` and at most `max` times, then `next`.
fn repeat(
    node: &Node,
    min: usize,
    max: Option<usize>,
    count: usize,
    input: &[char],
    at: usize,
    next: &dyn Fn(usize) -> bool,
) -> bool {
    let more = max.is_none_or(|max| count < max)
        && match_nodes(std::slice::from_ref(node), input, at, &|end| {
            end != at && repeat(node, min, max, count + 1, input, end, next)
        });
    more || (count >= min && next(at))
}

#[cfg(test)]
mod tests {
    use super::is_match;

    #[test]
    fn matcher_understands_the_generated_syntax() {
        assert!(is_match(r"^/a/(.*/)?[^/]*\.env(/.*)?$", "/a/b/c/x.env"));
        assert!(is_match(r"^/a/(.*/)?[^/]*\.env(/.*)?$", "/a/x.env/inner"));
        assert!(!is_match(r"^/a/(.*/)?[^/]*\.env(/.*)?$", "/a/x.envy"));
        assert!(is_match(
            r"/docker\.sock(\.raw)?$",
            "/var/run/docker.sock.raw"
        ));
        assert!(!is_match(r"^/dev/ttys[0-9]+", "/dev/ttys"));
        assert!(is_match(r"^(docker|com\.docker\.cli)$", "com.docker.cli"));
        assert!(is_match(r"^[[:digit:]]x$", "7x"));
        assert!(!is_match(r"^[^/a]$", "/"));
        assert!(is_match(r"^[]a]$", "]"));
    }
}
