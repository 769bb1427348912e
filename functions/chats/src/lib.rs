use lambda_http::{Body, Request, Response};
use shared::routes::Function;
use shared::{ApiError, ApiRequest, Context};

pub struct App {
    pub ctx: Context,
}

impl App {
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let (ctx, _) = Context::from_env().await?;
        Ok(Self { ctx })
    }
}

pub async fn handle(app: &App, request: Request) -> Response<Body> {
    shared::runtime::respond(request, Function::Chats, |req| dispatch(app, req)).await
}

async fn dispatch(_app: &App, _req: ApiRequest) -> Result<Response<Body>, ApiError> {
    Err(ApiError::NotFound("There is no such route."))
}
