//! The typed GraphQL layer over a [`Transport`]: builds an operation's body from its
//! generated variables, sends it, and turns the answer into the generated response data or
//! an [`ApiError`] carrying the server's stable code.

mod error;
pub(crate) mod operations;

pub use error::ApiError;

use std::sync::Arc;

use graphql_client::GraphQLQuery;

use crate::Error;
use crate::transport::{Call, Transport};

/// Runs typed operations over a transport.
#[derive(Debug, Clone)]
pub struct Api {
    transport: Arc<dyn Transport>,
}

impl Api {
    /// An API over `transport`.
    pub fn new(transport: Arc<dyn Transport>) -> Api {
        Api { transport }
    }

    /// Runs operation `Q`. `idempotent` marks calls the transport may repeat after an
    /// ambiguous failure (queries, mutations with an idempotency key).
    pub async fn run<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
        bearer: Option<String>,
        idempotent: bool,
    ) -> Result<Q::ResponseData, Error> {
        let body = Q::build_query(variables);
        let operation = body.operation_name;
        let body = serde_json::to_value(&body)
            .map_err(|_| Error::Protocol("request variables do not serialise"))?;
        let response = self
            .transport
            .send(Call {
                operation,
                body,
                bearer,
                idempotent,
            })
            .await?;
        if let Some(error) = ApiError::from_response(&response) {
            return Err(Error::Api(error));
        }
        let data = response
            .get("data")
            .cloned()
            .ok_or(Error::Protocol("a response without data"))?;
        serde_json::from_value(data).map_err(|e| {
            tracing::warn!(operation, error = %e, "unexpected response shape");
            Error::Protocol("a response that does not match the schema")
        })
    }
}
