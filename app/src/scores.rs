//! The current model's scores as a CSV file, so every number on the page can be checked
//! elsewhere (a spreadsheet, a notebook): the training scores the thresholds are fitted on
//! and every test score with its label.

use crate::protocol::ModelView;

/// `set,index,name,label,score` rows: the normal training images, then the test images.
pub fn csv(view: &ModelView) -> String {
    let mut out = String::from("set,index,name,label,score\n");
    for (i, score) in view.train_scores.iter().enumerate() {
        out.push_str(&format!("train,{i},,normal,{score}\n"));
    }
    for (i, score) in view.test_scores.iter().enumerate() {
        let label = match view.test_is_anomaly.get(i) {
            Some(true) => "anomalous",
            Some(false) => "normal",
            None => "",
        };
        let name = view.test_names.get(i).map_or("", String::as_str);
        out.push_str(&format!("test,{i},{},{label},{score}\n", quoted(name)));
    }
    out
}

/// A CSV field: quoted (quotes doubled) when it holds a comma, quote or line break.
fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// "conv-ae-digit0-scores.csv".
pub fn file_name(view: &ModelView) -> String {
    let data = view.protocol.slug();
    format!("{}-{data}-scores.csv", view.model.id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steer::tests::view;

    #[test]
    fn every_score_is_a_row_with_its_set_and_label() {
        let mut v = view(&[0.5, 0.25], &[0.125, 2.0], &[false, true]);
        v.test_names = vec!["digit 1 #0".into(), "a, \"b\".png".into()];
        assert_eq!(
            csv(&v),
            "set,index,name,label,score\n\
             train,0,,normal,0.5\ntrain,1,,normal,0.25\n\
             test,0,digit 1 #0,normal,0.125\ntest,1,\"a, \"\"b\"\".png\",anomalous,2\n"
        );
        assert_eq!(file_name(&v), "conv-ae-digit0-scores.csv");
    }
}
