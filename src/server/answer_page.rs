//! `/predict`'s answer as a page, for a browser that posted the upload form
//! without JavaScript; API clients keep getting JSON.

use axum::http::{HeaderMap, header};
use serde_json::Value;

/// A page a browser navigates to (a form post, an address typed in) gets
/// HTML; `fetch`, curl and API clients get JSON. Browsers say so with
/// `Sec-Fetch-Dest: document`, or, older ones, with an `Accept` naming both
/// HTML and XHTML. `text/html` alone is not enough: some HTTP libraries
/// (Java's, for one) send it by default.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(dest) = value("sec-fetch-dest") {
        return dest == "document";
    }
    value(header::ACCEPT.as_str()).is_some_and(|accept| {
        accept.contains("text/html") && accept.contains("application/xhtml+xml")
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · GenderLens</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="page.css">
</head>
<body>
<main>
<h1>GenderLens</h1>
{body}
<p><a href="./">Classify another photo</a></p>
</main>
</body>
</html>
"#,
        title = escape(title)
    )
}

fn label(face: &Value) -> &str {
    if face["uncertain"].as_bool() == Some(true) {
        "uncertain"
    } else {
        face["gender"].as_str().unwrap_or("unknown")
    }
}

/// The page for an answer: the faces as a table, or the error's message.
pub fn render(status: u16, answer: &Value) -> String {
    if let Some(message) = answer["error"].as_str() {
        // Only /predict classifies; other errors are about the address.
        let what = if matches!(status, 404 | 405) {
            "This address does not serve that request"
        } else {
            "The photo was not classified"
        };
        let body = format!(
            "<p id=\"status\" class=\"error\" role=\"alert\">{what} ({status}): {}</p>",
            escape(message)
        );
        return page("Error", &body);
    }
    let faces = answer["faces"].as_array().map_or(&[][..], Vec::as_slice);
    let count = |wanted: &str| faces.iter().filter(|f| label(f) == wanted).count();
    let summary = if faces.is_empty() {
        "No face found in this photo.".to_string()
    } else {
        let parts: Vec<String> = ["female", "male", "uncertain"]
            .into_iter()
            .map(|l| (count(l), l))
            .filter(|(n, _)| *n > 0)
            .map(|(n, l)| format!("{n} {l}"))
            .collect();
        let noun = if faces.len() == 1 { "face" } else { "faces" };
        format!("{} {noun}: {}.", faces.len(), parts.join(", "))
    };
    let mut body = format!(
        "<p id=\"status\" role=\"status\">{}</p>\n",
        escape(&summary)
    );
    if !faces.is_empty() {
        body.push_str(
            "<table id=\"faces\">\n<thead><tr><th scope=\"col\">Face</th><th scope=\"col\">Label</th>\
             <th scope=\"col\">Certainty</th><th scope=\"col\">Age</th><th scope=\"col\">Box (left, top, right, bottom)</th></tr></thead>\n<tbody>\n",
        );
        for (i, face) in faces.iter().enumerate() {
            let score = face["score"].as_f64().unwrap_or(0.0);
            let age = face["age"]
                .as_f64()
                .map_or_else(|| "—".to_string(), |a| format!("{a:.0}"));
            let bbox: Vec<String> = face["box"]
                .as_array()
                .map(|b| {
                    b.iter()
                        .map(|v| format!("{:.0}", v.as_f64().unwrap_or(0.0)))
                        .collect()
                })
                .unwrap_or_default();
            let leans = if label(face) == "uncertain" {
                format!(" (leans {})", escape(face["gender"].as_str().unwrap_or("")))
            } else {
                String::new()
            };
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}{leans}</td><td>{:.0}%</td><td>{age}</td><td>{}</td></tr>\n",
                i + 1,
                escape(label(face)),
                score * 100.0,
                bbox.join(", ")
            ));
        }
        body.push_str("</tbody>\n</table>\n");
    }
    page("Result", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_browser_form_asks_for_html_and_api_clients_do_not() {
        let mut headers = HeaderMap::new();
        assert!(!wants_html(&headers));
        headers.insert(header::ACCEPT, "*/*".parse().unwrap());
        assert!(!wants_html(&headers));
        headers.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
                .parse()
                .unwrap(),
        );
        assert!(wants_html(&headers));
        // Java's HttpURLConnection, by default.
        headers.insert(
            header::ACCEPT,
            "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"
                .parse()
                .unwrap(),
        );
        assert!(!wants_html(&headers));
        headers.insert("sec-fetch-dest", "document".parse().unwrap());
        assert!(wants_html(&headers));
        headers.insert("sec-fetch-dest", "empty".parse().unwrap());
        assert!(!wants_html(&headers));
    }

    #[test]
    fn faces_are_listed_and_text_is_escaped() {
        let answer = json!({"faces": [
            {"gender": "female", "score": 0.97, "uncertain": false, "age": 31.4, "box": [1.0, 2.0, 30.0, 40.0]},
            {"gender": "male", "score": 0.55, "uncertain": true, "box": [50.0, 2.0, 80.0, 40.0]},
        ]});
        let html = render(200, &answer);
        assert!(html.contains("2 faces: 1 female, 1 uncertain."), "{html}");
        assert!(
            html.contains("<td>uncertain (leans male)</td><td>55%</td><td>—</td>"),
            "{html}"
        );
        assert!(html.contains("<td>female</td><td>97%</td><td>31</td><td>1, 2, 30, 40</td>"));

        let html = render(415, &json!({"error": "not an image: <script>"}));
        assert!(
            html.contains("(415): not an image: &lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"));
        let html = render(405, &json!({"error": "takes POST"}));
        assert!(html.contains("This address does not serve that request (405): takes POST"));
    }
}
