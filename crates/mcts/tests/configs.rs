//! Every serde configuration of the crate rejects an unknown field with an error naming it,
//! and still fills missing fields with their defaults.

use mcts::alphazero::train::MatchConfig;
use mcts::alphazero::{AdamConfig, NetShape, PuctConfig, SelfPlayConfig, TrainConfig};
use mcts::{ParallelConfig, UctConfig};
use serde::de::DeserializeOwned;

/// `{"<typo>": 1}` must fail, naming `typo`; `{}` must give the default.
fn rejects_typo<T: DeserializeOwned + PartialEq + std::fmt::Debug + Default>(typo: &str) {
    let name = std::any::type_name::<T>();
    let err = serde_json::from_str::<T>(&format!(r#"{{"{typo}": 1}}"#))
        .expect_err(&format!("{name} accepted the unknown field `{typo}`"));
    assert!(
        err.to_string().contains(&format!("unknown field `{typo}`")),
        "{name}: {err}"
    );
    let empty: T = serde_json::from_str("{}").unwrap();
    assert_eq!(
        empty,
        T::default(),
        "{name}: missing fields take the defaults"
    );
}

#[test]
fn configs_reject_unknown_fields_by_name() {
    rejects_typo::<UctConfig>("exploraton");
    rejects_typo::<ParallelConfig>("thread");
    rejects_typo::<PuctConfig>("c_pcut");
    rejects_typo::<SelfPlayConfig>("game");
    rejects_typo::<TrainConfig>("minutes");
    rejects_typo::<MatchConfig>("uct_sim");
    rejects_typo::<AdamConfig>("learning_rat");
}

#[test]
fn net_shapes_reject_unknown_fields_by_name() {
    let ok: NetShape =
        serde_json::from_str(r#"{"input": 4, "hidden": [8], "actions": 2}"#).unwrap();
    assert_eq!(ok.hidden, vec![8]);
    let err = serde_json::from_str::<NetShape>(
        r#"{"input": 4, "hidden": [8], "actions": 2, "hiden": [8]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("unknown field `hiden`"), "{err}");
}

#[test]
fn a_typo_nested_in_a_config_is_named_too() {
    let err = serde_json::from_str::<SelfPlayConfig>(r#"{"puct": {"leaf_bach": 4}}"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown field `leaf_bach`"),
        "{err}"
    );
}
