//! Where each field of a YAML document is, by the path the schema check reports
//! (`spec.rules.adminProfile`, `spec.exclusions[0].users`, `items[2]`). serde_yaml's values
//! carry no positions, so the document's events are walked once more with a parser that has
//! them. Best effort: a document that parser cannot read has no lines, and errors fall back
//! to the document's first line.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser};

/// 1-based lines, relative to the document's own first line.
#[derive(Debug, Default)]
pub struct Lines {
    by_path: HashMap<String, usize>,
}

enum Frame {
    /// A mapping; `key` is set between a key and the end of its value.
    Map {
        segment: String,
        key: Option<String>,
    },
    Seq {
        segment: String,
        next: usize,
    },
}

impl Frame {
    fn segment(&self) -> &str {
        match self {
            Frame::Map { segment, .. } | Frame::Seq { segment, .. } => segment,
        }
    }
}

fn join(stack: &[Frame], leaf: &str) -> String {
    let mut path = String::new();
    for segment in stack.iter().map(Frame::segment).chain([leaf]) {
        if segment.is_empty() {
            continue;
        }
        if !path.is_empty() && !segment.starts_with('[') {
            path.push('.');
        }
        path.push_str(segment);
    }
    path
}

impl Lines {
    pub fn of(text: &str) -> Lines {
        let mut lines = Lines::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let line = span.start.line();
            let opens = match &event {
                Event::MappingStart(..) => Some(true),
                Event::SequenceStart(..) => Some(false),
                Event::Scalar(..) | Event::Alias(..) => None,
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    match stack.last_mut() {
                        Some(Frame::Map { key, .. }) => *key = None,
                        Some(Frame::Seq { next, .. }) => *next += 1,
                        None => {}
                    }
                    continue;
                }
                _ => continue,
            };
            // Where this node sits: a key, a key's value, a list item, or the root.
            let segment = match stack.last_mut() {
                Some(Frame::Map {
                    key: key @ None, ..
                }) => {
                    let Event::Scalar(name, ..) = &event else {
                        // A complex key: nothing to name, but keep the nesting balanced.
                        *key = Some(String::new());
                        if let Some(map) = opens {
                            stack.push(container(map, "?".to_string()));
                        }
                        continue;
                    };
                    let name = name.to_string();
                    lines.by_path.entry(join(&stack, &name)).or_insert(line);
                    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                        *key = Some(name);
                    }
                    continue;
                }
                Some(Frame::Map { key: Some(k), .. }) => {
                    let k = k.clone();
                    if opens.is_none()
                        && let Some(Frame::Map { key, .. }) = stack.last_mut()
                    {
                        *key = None;
                    }
                    k
                }
                Some(Frame::Seq { next, .. }) => {
                    let segment = format!("[{next}]");
                    if opens.is_none() {
                        *next += 1;
                    }
                    lines.by_path.entry(join(&stack, &segment)).or_insert(line);
                    segment
                }
                None => String::new(),
            };
            if let Some(map) = opens {
                stack.push(container(map, segment));
            }
        }
        lines
    }

    /// The line of `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(line) = self.by_path.get(p) {
                return Some(*line);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }
}

fn container(map: bool, segment: String) -> Frame {
    if map {
        Frame::Map { segment, key: None }
    } else {
        Frame::Seq { segment, next: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn finds_keys_and_items_in_block_and_flow_style() {
        let lines = Lines::of(
            "kind: List\nitems:\n- kind: A\n  spec:\n    rules: {adminProfile: [x]}\n- kind: B\n  spec:\n    users:\n      - a\n      - b\n",
        );
        assert_eq!(lines.line("kind"), Some(1));
        assert_eq!(lines.line("items[0]"), Some(3));
        assert_eq!(lines.line("items[0].spec.rules.adminProfile"), Some(5));
        assert_eq!(lines.line("items[1]"), Some(6));
        assert_eq!(lines.line("items[1].spec.users[1]"), Some(10));
        // An absent field is placed at its parent.
        assert_eq!(lines.line("items[1].spec.missing"), Some(7));
        assert_eq!(lines.line("nowhere"), None);
    }
}
