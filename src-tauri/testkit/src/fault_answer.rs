//! The answer the proxy gives instead of the emulator's for a fault: the service's own
//! error in its protocol's wire format (JSON with `__type`, EC2's XML, or the query
//! protocol's XML).

use crate::{Fault, Request};

pub(crate) fn fault_response(
    fault: Fault,
    request: &Request,
    service: &str,
    action: &str,
) -> Vec<u8> {
    let denied = format!(
        "User: arn:aws:iam::123456789012:user/slipway-test is not authorized to perform: {service}:{action}"
    );
    let (status, code, message) = match fault {
        Fault::Throttle if service == "ec2" => (
            503,
            "RequestLimitExceeded",
            "Request limit exceeded.".to_owned(),
        ),
        Fault::Throttle if request.is_json_protocol() => {
            (400, "ThrottlingException", "Rate exceeded".to_owned())
        }
        Fault::Throttle => (400, "Throttling", "Rate exceeded".to_owned()),
        Fault::ServerError(status) if service == "ec2" => (
            status,
            "InternalError",
            "An internal error has occurred".to_owned(),
        ),
        Fault::ServerError(status) => (
            status,
            "InternalFailure",
            "An internal error has occurred".to_owned(),
        ),
        Fault::AccessDenied if service == "ec2" => (
            403,
            "UnauthorizedOperation",
            format!("You are not authorized to perform this operation. {denied}"),
        ),
        Fault::AccessDenied if request.is_json_protocol() => (400, "AccessDeniedException", denied),
        Fault::AccessDenied => (403, "AccessDenied", denied),
        Fault::Drop | Fault::Slow(_) | Fault::Truncate => {
            unreachable!("these faults forward or drop; they have no answer of their own")
        }
    };
    let (content_type, body) = if request.is_json_protocol() {
        (
            "application/x-amz-json-1.1",
            format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        )
    } else if service == "ec2" {
        (
            "text/xml",
            format!("<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"),
        )
    } else {
        (
            "text/xml",
            format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"),
        )
    };
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
