//! The engine's handling of an upload: `/ocr` and `/face/liveness` in a real session, with
//! the fuzzer's bytes as the multipart body (its first line: the boundary, whose length picks the endpoint) and the images in
//! it. The router runs without models or Tesseract, as an engine missing them would.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use ekyc_contract::Secret;
use ekyc_engine::{ConnectionLimits, EngineSettings, LockoutLimits, UploadLimits};
use ekyc_liveness::ParallaxThresholds;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct Engine {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    session: String,
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Written out: `EngineSettings::default()` would load the face models and find
        // Tesseract, which make each run slower without reaching more of the upload code.
        let router = ekyc_engine::router(EngineSettings {
            api_keys: vec![Secret::new("fuzz")],
            session_ttl: Duration::from_secs(86_400),
            max_file_bytes: 1024 * 1024,
            tls: None,
            connections: ConnectionLimits::default(),
            lockout: LockoutLimits::default(),
            uploads: UploadLimits::default(),
            max_sessions: 10,
            // A session that takes every selfie the fuzzer sends.
            selfie_attempts: u32::MAX,
            script: None,
            ocr: None,
            faces: None,
            matcher: None,
            match_distance: 0.6,
            mesh: None,
            parallax: ParallaxThresholds::default(),
            company_ids: vec![Secret::new("fuzz")],
            enrolments: None,
            reveal_not_enrolled: false,
            csca: Default::default(),
        });
        let session = runtime.block_on(async {
            let reply = router
                .clone()
                .oneshot(
                    Request::post("/session/init")
                        .header("api-key", "fuzz")
                        .header("device-type", "web-sdk")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let body = axum::body::to_bytes(reply.into_body(), 1 << 20).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            body["session-id"].as_str().unwrap().to_owned()
        });
        Engine {
            runtime,
            router,
            session,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let (boundary, body) = match data.iter().position(|&byte| byte == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (&b"b"[..], data),
    };
    let boundary = String::from_utf8_lossy(boundary);
    // An odd boundary's length: the selfie endpoint; even: the document's.
    let path = if boundary.len() % 2 == 1 {
        "/face/liveness"
    } else {
        "/ocr"
    };
    let request = Request::post(path)
        .header("api-key", "fuzz")
        .header("device-type", "web-sdk")
        .header("session-id", engine.session.as_str())
        .header("document-type", "idr")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body.to_vec()));
    let Ok(request) = request else {
        return;
    };
    engine.runtime.block_on(async {
        let reply = engine.router.clone().oneshot(request).await.unwrap();
        // Every answer is JSON, errors included.
        let status = reply.status();
        let body = axum::body::to_bytes(reply.into_body(), 1 << 22).await.unwrap();
        assert!(
            serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
            "HTTP {status} answered with a body that is not JSON"
        );
    });
});
