//! A Python callee (`peer.py callee --prefix PREFIX`) called through generated stubs.

use super::*;

/// What peer.py's `describe` answers: the Python type names of the arguments.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Description {
    /// Type names of the positional arguments.
    pub args: Vec<String>,
    /// Type names of the keyword arguments.
    pub kwargs: BTreeMap<String, String>,
}

/// The error peer.py's `fail` raises, mapped to a typed variant.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum InteropError {
    /// `ApplicationError("com.interop.error.failed", "it failed", 42, reason="because")`.
    #[wamp(uri = "com.interop.error.failed")]
    Failed(String, i64),
}

/// The same URI with a payload that does not fit: not recognised.
#[derive(Debug, Clone, PartialEq, ApplicationError)]
pub enum MismatchedError {
    /// Expects a `code` keyword argument peer.py does not send.
    #[wamp(uri = "com.interop.error.failed")]
    Failed {
        /// Never sent.
        code: i64,
    },
}

/// peer.py's procedures, called positionally.
#[wampkit::service]
pub trait Interop {
    /// Returns its arguments as positional results.
    async fn echo(&self, text: String, blob: Blob, n: i64, x: f64) -> (String, Blob, i64, f64);

    /// Adds two numbers.
    async fn add(&self, a: i64, b: i64) -> i64;

    /// Always fails with `com.interop.error.failed`.
    async fn fail(&self) -> Result<(), InteropError>;

    /// Python type names of the arguments.
    async fn describe(&self, n: i64, x: f64, text: String, blob: Blob) -> Description;
}

/// peer.py's procedures with errors the stub does not recognise.
#[wampkit::service]
pub trait InteropMismatch {
    /// `fail`, expecting an error payload peer.py does not send.
    async fn fail(&self) -> Result<(), MismatchedError>;

    /// Not registered by peer.py.
    async fn missing(&self, n: i64) -> i64;
}

/// peer.py's procedures, called with keyword arguments.
#[wampkit::service]
pub trait InteropKeywords {
    /// Adds two numbers, given by keyword.
    #[wamp(kwargs)]
    async fn add(&self, a: f64, b: f64) -> f64;

    /// Python type names of the keyword arguments.
    #[wamp(kwargs)]
    async fn describe(&self, n: i64, blob: Blob, text: String) -> Description;
}

/// peer.py's `describe`, called with a keyword-argument struct.
#[wampkit::service]
pub trait InteropStruct {
    /// Python type names of the keyword arguments.
    async fn describe(&self, #[wamp(kwargs)] settings: Settings) -> Description;
}

/// The Python callee called through the stubs of the contracts above, under its prefix.
pub(crate) async fn called_through_stubs(serializer: Serializer) {
    let prefix = prefix(serializer, "py");
    let _callee = python_ready(vec![
        "--serializer".into(),
        serializer.name().into(),
        "callee".into(),
        "--prefix".into(),
        prefix.clone(),
    ])
    .await;
    let session = connect(serializer).await;
    let interop = InteropClient::with_prefix(&session, &prefix).unwrap();

    // Several positional results decode into a tuple; values survive.
    for (n, x) in [(-7, -0.125), (i64::MIN, 1e300)] {
        let echoed = within("echo", interop.echo(UNICODE.into(), blob(), n, x))
            .await
            .unwrap();
        assert_eq!(echoed, (UNICODE.to_owned(), blob(), n, x));
    }
    assert_eq!(within("add", interop.add(2, -5)).await.unwrap(), -3);

    // Python sees native types; bytes are bytes.
    let described = within(
        "describe",
        interop.describe(-1, 0.5, UNICODE.into(), blob()),
    )
    .await
    .unwrap();
    assert_eq!(described.args, ["int", "float", "str", "bytes"]);
    assert!(described.kwargs.is_empty(), "{described:?}");

    // The Python ApplicationError arrives as the declared variant.
    match within("fail", interop.fail()).await {
        Err(CallError::Application(InteropError::Failed(message, code))) => {
            assert_eq!((message.as_str(), code), ("it failed", 42))
        }
        other => panic!("expected InteropError::Failed, got {other:?}"),
    }

    // An error whose payload does not fit the declared variant is not that variant.
    let mismatch = InteropMismatchClient::with_prefix(&session, &prefix).unwrap();
    match within("fail mismatched", mismatch.fail()).await {
        Err(CallError::Other(Error::Wamp(e))) => {
            assert_eq!(e.uri.as_str(), "com.interop.error.failed");
            assert_eq!(
                e.args::<(String, i64)>().unwrap(),
                ("it failed".to_owned(), 42)
            );
            assert_eq!(e.kwargs.get("reason"), Some(&Value::from("because")));
        }
        other => panic!("expected an undeclared error, got {other:?}"),
    }
    assert_no_such_procedure("missing", within("missing", mismatch.missing(1)).await);

    // Keyword-argument stubs: Python receives keyword arguments only.
    let keywords = InteropKeywordsClient::with_prefix(&session, &prefix).unwrap();
    assert_eq!(
        within("add kw", keywords.add(0.5, -2.0)).await.unwrap(),
        -1.5
    );
    let described = within("describe kw", keywords.describe(-1, blob(), UNICODE.into()))
        .await
        .unwrap();
    assert!(described.args.is_empty(), "{described:?}");
    assert_eq!(
        described.kwargs,
        BTreeMap::from([
            ("n".to_owned(), "int".to_owned()),
            ("blob".to_owned(), "bytes".to_owned()),
            ("text".to_owned(), "str".to_owned()),
        ])
    );
    let described = within(
        "describe struct",
        InteropStructClient::with_prefix(&session, &prefix)
            .unwrap()
            .describe(Settings {
                verbose: None,
                ..settings()
            }),
    )
    .await
    .unwrap();
    assert!(described.args.is_empty(), "{described:?}");
    assert_eq!(
        described.kwargs,
        BTreeMap::from([
            ("name".to_owned(), "str".to_owned()),
            ("level".to_owned(), "int".to_owned()),
            ("ratio".to_owned(), "float".to_owned()),
            ("verbose".to_owned(), "NoneType".to_owned()),
        ])
    );
}
