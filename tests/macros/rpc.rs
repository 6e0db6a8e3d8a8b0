//! The calculator served by a Rust session: called through its generated stub `CalcClient`,
//! untyped, and from Autobahn|Python.

use super::*;

/// Serves a [`Calculator`] under `prefix` from a new session; keep both while calling it.
async fn serve(serializer: Serializer, prefix: &str) -> (Session, wampkit::ServiceRegistration) {
    let callee = connect(serializer).await;
    let service = CalcService::register_with_prefix(&callee, prefix, Calculator::default());
    let service = within("register", service).await.unwrap();
    (callee, service)
}

/// Calls `prefix.name` from Autobahn|Python.
async fn py_call_in(
    serializer: Serializer,
    prefix: &str,
    name: &str,
    args: Json,
    kwargs: Json,
) -> Json {
    py_call(serializer, &uri(prefix, name), args, kwargs).await
}

/// The calculator called through its generated stub, and untyped.
pub(crate) async fn typed_results_and_errors(serializer: Serializer) {
    let prefix = prefix(serializer, "calc_rust");
    let uri = |name: &str| uri(&prefix, name);
    let callee = connect(serializer).await;
    let caller = connect(serializer).await;
    let calc = CalcClient::with_prefix(&caller, &prefix).unwrap();
    assert_eq!(calc.prefix(), prefix);

    // Not registered yet: undeclared errors, even for a procedure declaring errors.
    assert_no_such_procedure("add", within("add", calc.add(1, 2)).await);
    assert_no_such_procedure("div", within("div", calc.div(1.0, 0.0)).await);

    let service = CalcService::register_with_prefix(&callee, &prefix, Calculator::default());
    let service = within("register", service).await.unwrap();
    assert_eq!(service.registrations().len(), 13);
    assert!(
        service
            .registrations()
            .iter()
            .any(|r| r.procedure() == uri("whoami"))
    );
    assert!(service.subscriptions().is_empty());

    // Typed results.
    assert_eq!(within("add", calc.add(2, -5)).await.unwrap(), -3);
    assert_eq!(
        within("add big", calc.add(-9_007_199_254_740_991, i64::MIN / 2))
            .await
            .unwrap(),
        -9_007_199_254_740_991 + i64::MIN / 2
    );
    assert_eq!(within("div", calc.div(7.0, -2.0)).await.unwrap(), -3.5);
    assert_eq!(
        within("factorial", calc.factorial(20)).await.unwrap(),
        2_432_902_008_176_640_000
    );
    assert_eq!(
        within("sum", calc.sum(vec![1.5, -2.25, 1e300]))
            .await
            .unwrap(),
        1.5 - 2.25 + 1e300
    );
    assert_eq!(within("sum []", calc.sum(vec![])).await.unwrap(), 0.0);
    assert_eq!(
        within("mean", calc.mean(vec![-1.5, 2.0])).await.unwrap(),
        0.25
    );
    let values = vec![-1.25, 2.5, 4.75, -0.1];
    assert_eq!(
        within("stats", calc.stats(values.clone())).await.unwrap(),
        stats_of(&values).unwrap()
    );

    // Typed errors: unit (with its message), tuple and named-fields variants.
    match within("div by 0", calc.div(1.0, 0.0)).await {
        Err(CallError::Application(CalcError::DivisionByZero)) => {}
        other => panic!("expected DivisionByZero, got {other:?}"),
    }
    let raw = within("raw div by 0", caller.call(uri("div"), (1.0, 0.0)))
        .await
        .unwrap_err();
    let raw = raw.as_wamp().unwrap();
    assert_eq!(raw.uri.as_str(), "com.macros.error.division_by_zero");
    assert_eq!(raw.message(), Some("division by zero"));
    match within("factorial(-3)", calc.factorial(-3)).await {
        Err(CallError::Application(CalcError::OutOfRange(n, why))) => {
            assert_eq!((n, why.as_str()), (-3, "n must be in 0..=20"))
        }
        other => panic!("expected OutOfRange, got {other:?}"),
    }
    match within("mean []", calc.mean(vec![])).await {
        Err(CallError::Application(e)) => assert_eq!(
            e,
            CalcError::Empty {
                what: "values".into(),
                count: 0
            }
        ),
        other => panic!("expected Empty, got {other:?}"),
    }
    let err = within("stats []", calc.stats(vec![])).await.unwrap_err();
    assert!(
        matches!(err.application(), Some(CalcError::Empty { count: 0, .. })),
        "{err:?}"
    );

    // `()` results, with side effects visible to later calls.
    within("remember", calc.remember("first".into()))
        .await
        .unwrap();
    within("remember unicode", calc.remember(UNICODE.into()))
        .await
        .unwrap();
    assert_eq!(
        within("notes", calc.notes()).await.unwrap(),
        vec!["first".to_owned(), UNICODE.to_owned()]
    );

    // InvocationDetails: the caller's session and the procedure.
    assert_eq!(
        within("whoami", calc.whoami()).await.unwrap(),
        (Some(caller.id()), uri("whoami"))
    );

    // A keyword-argument stub, and a keyword-argument struct parameter.
    assert_eq!(within("scale", calc.scale(2.5, -2.0)).await.unwrap(), -5.0);
    assert_eq!(
        within("configure", calc.configure(settings()))
            .await
            .unwrap(),
        settings()
    );
    let quiet = Settings {
        verbose: None,
        ..settings()
    };
    assert_eq!(
        within("configure None", calc.configure(quiet.clone()))
            .await
            .unwrap(),
        quiet
    );

    // An optional parameter.
    assert_eq!(
        within("greet", calc.greet("Ada".into(), None))
            .await
            .unwrap(),
        "Hello, Ada!"
    );
    assert_eq!(
        within("greet 2", calc.greet("Ada".into(), Some("Servus".into())))
            .await
            .unwrap(),
        "Servus, Ada!"
    );

    // Negative numbers, floats, unicode and bytes survive both ways.
    for (n, x) in [(i64::MIN, -0.1), (i64::MAX, 1e-300), (-1, -2.5e300)] {
        let echoed = within("echo", calc.echo(UNICODE.into(), blob(), n, x))
            .await
            .unwrap();
        assert_eq!(echoed, (UNICODE.to_owned(), blob(), n, x));
    }
    let empty = within("echo empty", calc.echo(String::new(), Blob(vec![]), 0, 0.5))
        .await
        .unwrap();
    assert_eq!(empty, (String::new(), Blob(vec![]), 0, 0.5));

    // Payloads that do not fit (sent untyped): invalid_argument naming the parameter.
    assert_raw_invalid_argument(
        within("add(\"two\", 3)", caller.call(uri("add"), ("two", 3))).await,
        &[prefix.as_str(), "`a`"],
    );
    assert_raw_invalid_argument(
        within(
            "echo with a string for bytes",
            caller.call(uri("echo"), ("t", "AAEC", 1, 0.5)),
        )
        .await,
        &["`blob`"],
    );
    assert_raw_invalid_argument(
        within("factorial(2.5)", caller.call(uri("factorial"), (2.5,))).await,
        &["`n`"],
    );
    // The struct parameter takes keyword arguments only.
    assert_raw_invalid_argument(
        within(
            "configure positionally",
            caller.call(uri("configure"), ("x", 1, 0.5)),
        )
        .await,
        &["keyword arguments only"],
    );
}

/// The calculator called by Autobahn|Python.
pub(crate) async fn called_from_python(serializer: Serializer) {
    let prefix = prefix(serializer, "calc_python");
    let _callee = serve(serializer, &prefix).await;
    let call = |name, args, kwargs| py_call_in(serializer, &prefix, name, args, kwargs);

    // Positional, keyword and mixed arguments bind like a Python callee's.
    let reply = call("add", json!([2, -5]), json!({})).await;
    assert_eq!(reply, json!({"args": [-3], "kwargs": {}}));
    let reply = call("add", json!([]), json!({"a": 2, "b": 3})).await;
    assert_eq!(reply, json!({"args": [5], "kwargs": {}}));
    let reply = call("add", json!([40]), json!({"b": 2})).await;
    assert_eq!(reply["args"], json!([42]));
    let reply = call("greet", json!(["Ada"]), json!({})).await;
    assert_eq!(reply["args"], json!(["Hello, Ada!"]));
    let reply = call("scale", json!([]), json!({"value": 2.5, "factor": -2.0})).await;
    assert_eq!(reply["args"], json!([-5.0]));

    // A keyword-argument struct; a struct result.
    let reply = call(
        "configure",
        json!([]),
        json!({"name": UNICODE, "level": -3, "ratio": 0.125}),
    )
    .await;
    assert_eq!(
        reply["args"],
        json!([{"name": UNICODE, "level": -3, "ratio": 0.125, "verbose": null}])
    );
    let reply = call("stats", json!([[-1.25, 2.5, 4.75]]), json!({})).await;
    assert_eq!(
        reply["args"],
        json!([{"count": 3, "min": -1.25, "max": 4.75, "mean": 2.0}])
    );

    // `()`: an empty result, and the side effect is visible afterwards.
    let reply = call("remember", json!([UNICODE]), json!({})).await;
    assert_eq!(reply, json!({"args": [], "kwargs": {}}));
    let reply = call("notes", json!([]), json!({})).await;
    assert_eq!(reply["args"], json!([[UNICODE]]));

    // InvocationDetails sees the Python caller and the procedure.
    let reply = call("whoami", json!([]), json!({})).await;
    assert!(reply["args"][0][0].is_u64(), "{reply}");
    assert_eq!(reply["args"][0][1], json!(uri(&prefix, "whoami")));

    // Values survive: negative numbers, floats, unicode, bytes.
    let reply = call(
        "echo",
        json!([UNICODE, blob_json(), -9_007_199_254_740_991i64, -0.1]),
        json!({}),
    )
    .await;
    assert_eq!(
        reply["args"],
        json!([[UNICODE, blob_json(), -9_007_199_254_740_991i64, -0.1]])
    );

    // Typed errors arrive with their URI, args and kwargs.
    let reply = call("div", json!([1.0, 0.0]), json!({})).await;
    assert_eq!(
        reply,
        json!({
            "error": "com.macros.error.division_by_zero",
            "args": ["division by zero"],
            "kwargs": {},
        })
    );
    let reply = call("factorial", json!([-3]), json!({})).await;
    assert_eq!(
        reply,
        json!({
            "error": "com.macros.error.out_of_range",
            "args": [-3, "n must be in 0..=20"],
            "kwargs": {},
        })
    );
    let reply = call("mean", json!([[]]), json!({})).await;
    assert_eq!(
        reply,
        json!({
            "error": "com.macros.error.empty",
            "args": [],
            "kwargs": {"what": "values", "count": 0},
        })
    );

    // A wrong payload: invalid_argument naming the parameter.
    let reply = call("echo", json!(["t", 42, 1, 0.5]), json!({})).await;
    assert_invalid_argument(&reply, &[prefix.as_str(), "`blob`"]);
}

/// Wrong payloads from Python, answered with `wamp.error.invalid_argument` and a message that
/// names the parameter.
pub(crate) async fn answered_with_invalid_argument() {
    let serializer = Serializer::Json;
    let prefix = "com.macros.bad_payloads";
    let _callee = serve(serializer, prefix).await;
    let call = |name, args, kwargs| py_call_in(serializer, prefix, name, args, kwargs);

    let reply = call("add", json!([1]), json!({})).await;
    assert_invalid_argument(&reply, &[&uri(prefix, "add"), "missing argument `b`"]);
    let reply = call("add", json!([]), json!({"a": 1})).await;
    assert_invalid_argument(&reply, &["missing argument `b`"]);
    let reply = call("add", json!(["two", 3]), json!({})).await;
    assert_invalid_argument(&reply, &["argument `a`"]);
    let reply = call("add", json!([1]), json!({"b": "three"})).await;
    assert_invalid_argument(&reply, &["argument `b`"]);
    let reply = call("add", json!([1, 2, 3]), json!({})).await;
    assert_invalid_argument(&reply, &["at most 2 positional arguments", "a, b", "got 3"]);
    let reply = call("add", json!([]), json!({"a": 1, "b": 2, "c": 3})).await;
    assert_invalid_argument(&reply, &["unexpected keyword argument `c`"]);
    let reply = call("add", json!([1, 2]), json!({"a": 1})).await;
    assert_invalid_argument(&reply, &["`a`", "both"]);
    let reply = call("sum", json!(["1, 2"]), json!({})).await;
    assert_invalid_argument(&reply, &["argument `values`"]);
    let reply = call("greet", json!([]), json!({"greeting": "Hi"})).await;
    assert_invalid_argument(&reply, &["missing argument `name`"]);
    let reply = call("whoami", json!([1]), json!({})).await;
    assert_invalid_argument(&reply, &["positional"]);
    let reply = call("configure", json!(["x", 1, 0.5]), json!({})).await;
    assert_invalid_argument(&reply, &["keyword arguments only"]);
    let reply = call("configure", json!([]), json!({"name": "x", "ratio": 0.5})).await;
    assert_invalid_argument(&reply, &["`settings`", "level"]);

    // The service still answers.
    let reply = call("add", json!([1, 2]), json!({})).await;
    assert_eq!(reply["args"], json!([3]));
}

/// A wrong type inside a keyword-argument struct: the message should name the keyword
/// argument, as it does for plain parameters ("argument `level`: invalid type ...").
pub(crate) async fn kwargs_struct_errors_name_the_field() {
    let prefix = "com.macros.bad_kwargs_struct_payloads";
    let _callee = serve(Serializer::Json, prefix).await;
    let reply = py_call_in(
        Serializer::Json,
        prefix,
        "configure",
        json!([]),
        json!({"name": "x", "level": "high", "ratio": 0.5}),
    )
    .await;
    // Today: "...configure: keyword arguments (`settings`): invalid type: string \"high\",
    // expected i64", which does not say which keyword argument is wrong.
    assert_invalid_argument(&reply, &["`settings`", "level"]);
}
