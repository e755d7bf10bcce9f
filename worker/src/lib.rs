use worker::*; #[event(fetch)] async fn fetch(_r: Request, _e: Env, _c: Context) -> Result<Response> { Response::ok("x") }
