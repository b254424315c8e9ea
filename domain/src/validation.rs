//! Field-level validation errors, collected so that a form can show every problem at once.

use serde::Serialize;

/// One problem with one input field. `field` is a path such as `nickname` or `answers[3]`;
/// `message` is Chinese and can be shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// One or more field errors. Built with [`ValidationError::collect`] or
/// [`ValidationError::single`]; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("validation failed: {} field(s)", .0.len())]
pub struct ValidationError(pub Vec<FieldError>);

impl ValidationError {
    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// The same errors, each field named under `prefix` (`articles[3]` + `title` →
    /// `articles[3].title`), for inputs nested in a list.
    pub fn under(self, prefix: &str) -> Self {
        Self(
            self.0
                .into_iter()
                .map(|e| FieldError {
                    field: format!("{prefix}.{}", e.field),
                    message: e.message,
                })
                .collect(),
        )
    }
}

/// Accumulates field errors while parsing several inputs.
#[derive(Debug, Default)]
pub struct Collector(Vec<FieldError>);

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value when it parsed, records the errors otherwise.
    pub fn check<T>(&mut self, result: Result<T, ValidationError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.0);
                None
            }
        }
    }

    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn finish(self) -> Result<(), ValidationError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationError(self.0))
        }
    }
}

/// Text length in characters (not bytes: Chinese characters count as one).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Trims, then checks `min..=max` characters and the absence of control characters.
pub fn text(
    field: &str,
    label: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    checked(field, label, raw.trim(), min, max, char::is_control)
}

/// As [`text`], for what people write in a box of several lines (a message, a description, a
/// note, a comment): line breaks and tabs are kept (`\r\n` becomes `\n`); any other control
/// character is refused.
pub fn multiline(
    field: &str,
    label: &str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let value = raw.trim().replace("\r\n", "\n");
    checked(field, label, &value, min, max, |ch| {
        ch.is_control() && ch != '\n' && ch != '\t'
    })
}

fn checked(
    field: &str,
    label: &str,
    value: &str,
    min: usize,
    max: usize,
    refused: fn(char) -> bool,
) -> Result<String, ValidationError> {
    let len = char_len(value);
    if len < min {
        return Err(ValidationError::single(
            field,
            if min <= 1 {
                format!("{label}不能为空")
            } else {
                format!("{label}至少需要 {min} 个字")
            },
        ));
    }
    if len > max {
        return Err(ValidationError::single(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    if value.chars().any(refused) {
        return Err(ValidationError::single(
            field,
            format!("{label}包含不可见的控制字符"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_chinese_characters_not_bytes() {
        assert!(text("n", "昵称", "心嚟在线", 1, 4).is_ok());
        assert!(text("n", "昵称", "心嚟在线呀", 1, 4).is_err());
    }

    #[test]
    fn rejects_blank_and_control_characters() {
        assert!(text("n", "昵称", "   ", 1, 4).is_err());
        assert!(text("n", "昵称", "a\u{0007}b", 1, 4).is_err());
        assert_eq!(text("n", "昵称", "  小明 ", 1, 4).unwrap(), "小明");
        assert!(text("n", "昵称", "小\n明", 1, 4).is_err());
    }

    #[test]
    fn several_lines_keep_their_breaks_but_no_other_control_character() {
        assert_eq!(
            multiline("t", "消息", " 你好\r\n\t我想聊聊 \n", 1, 20).unwrap(),
            "你好\n\t我想聊聊"
        );
        assert!(multiline("t", "消息", "a\u{0007}b", 1, 20).is_err());
        assert!(multiline("t", "消息", " \n ", 1, 20).is_err());
    }
}
