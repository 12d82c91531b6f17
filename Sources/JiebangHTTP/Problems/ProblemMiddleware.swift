public import Hummingbird
import Jiebang
import Logging
import NIOHTTP1
import Postgres

/// Turns every error into a problem document: `Problem` as it is, domain refusals with their
/// status and fields, Hummingbird's own HTTP errors (unknown route, bad body) with their status, a body
/// the HTTP parser refuses (a malformed chunk) as a 400 naming the fault,
/// a database data exception (SQLSTATE class 22, a value the input checks missed) as a 400 logged
/// at warning, a database out of disk space (SQLSTATE 53100: the statement failed and its transaction
/// was rolled back, so nothing was half-written) as a 507 logged at error, anything else as a bare 500
/// whose cause goes to the log, never to the client.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where an outage is reported, so it is logged once, not once per request.
    let availability: DatabaseAvailability?

    /// A middleware that logs every database failure with its request.
    public init() { availability = nil }

    /// A middleware that reports outages to `availability`.
    init(availability: DatabaseAvailability) { self.availability = availability }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let problem as RetryLaterProblem {
            throw problem
        } catch let problem as MethodNotAllowedProblem {
            throw problem
        } catch let error as DomainError {
            throw Problem(error)
        } catch AccountError.throttled(let wait) {
            throw RetryLaterProblem(
                status: .tooManyRequests, detail: AccountError.throttled(retryAfter: wait).description, retryAfter: wait)
        } catch AccountError.registrationsThrottled(let wait) {
            throw RetryLaterProblem(
                status: .tooManyRequests, detail: AccountError.registrationsThrottled(retryAfter: wait).description, retryAfter: wait)
        } catch let error as AccountError {
            throw Problem(error)
        } catch let busy as PasswordHashingPool.Busy {
            throw RetryLaterProblem(detail: "Too many passwords are being checked; try again shortly.", retryAfter: busy.retryAfter)
        } catch let error as HTTPParserError {
            // The body could not be read as HTTP (a chunked body with a malformed chunk size): bad input.
            throw MalformedRequestHandler.problem(for: error)
        } catch let error as HTTPError {
            throw Problem(status: error.status, detail: error.body)
        } catch let error as any HTTPResponseError {
            throw Problem(status: error.status)
        } catch let error as PostgresError where error.isUnavailable {
            if let availability, error.isOutage {
                availability.reportOutage(error)
            } else if availability?.isUnreachable != true {
                context.logger.warning(
                    "database unavailable",
                    metadata: ["error": "\(error)", "db.sqlstate": "\(error.sqlState?.code ?? error.code.description)"])
            }
            throw RetryLaterProblem(detail: "The database is busy or unreachable; try again shortly.", retryAfter: .seconds(1))
        } catch let error as PostgresError where error.sqlState?.code == "53100" {
            context.logger.error(
                "database is out of disk space",
                metadata: ["db.statement": "\(Self.statementName(error.query))", "http.path": "\(request.uri.path)"])
            throw Problem(
                status: HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), title: "Insufficient storage",
                detail: "The server has no room left to store this; nothing was saved. Try again later.")
        } catch let error as PostgresError where error.sqlState?.errorClass == "22" {
            // A data exception (22xxx) is a value from the request that the input layer should have
            // refused; name the statement (its first characters, never the bound values) to find where.
            context.logger.warning(
                "database refused a value",
                metadata: [
                    "db.sqlstate": "\(error.sqlState?.code ?? "")",
                    "db.statement": "\(Self.statementName(error.query))",
                    "http.path": "\(request.uri.path)",
                ])
            throw Problem(
                status: .badRequest, title: "Invalid request",
                detail: "A value in the request cannot be stored (SQLSTATE \(error.sqlState?.code ?? "22000")).")
        } catch {
            context.logger.error(
                "request failed", metadata: ["error": "\(String(reflecting: error))", "http.path": "\(request.uri.path)"])
            throw Problem(status: .internalServerError, detail: "The server could not complete the request.")
        }
    }
}

extension ProblemMiddleware {
    /// The first 60 characters of a statement's text, on one line, to name it in a log.
    static func statementName(_ sql: String?) -> String {
        guard let sql else { return "unknown" }
        let line = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return line.count > 60 ? String(line.prefix(60)) + "…" : line
    }
}

extension Problem {
    /// The problem for a domain refusal.
    init(_ error: DomainError) {
        switch error {
        case .invalid(let issues):
            self.init(
                status: .unprocessableContent, title: "Invalid fields", detail: error.description,
                errors: issues.map { .init(field: $0.field, message: $0.message) })
        case .notFound(let message):
            self.init(status: .notFound, detail: message)
        case .forbidden(let message):
            self.init(status: .forbidden, detail: message)
        case .conflict(let field, let message):
            self.init(
                status: .conflict, detail: error.description,
                errors: field.map { [.init(field: $0, message: message)] })
        case .stale:
            self.init(status: .preconditionFailed, detail: error.description)
        case .revisionRequired:
            self.init(
                status: .preconditionRequired, detail: error.description,
                errors: [.init(field: "If-Match", message: "is required")])
        }
    }

    /// The problem for a refused account operation.
    init(_ error: AccountError) {
        switch error {
        case .invalidCredentials:
            self.init(status: .unauthorized, detail: error.description)
        case .loginTaken:
            self.init(status: .conflict, detail: error.description, errors: [.init(field: error.field, message: error.description)])
        default:
            self.init(
                status: .unprocessableContent, detail: error.description,
                errors: [.init(field: error.field, message: error.description)])
        }
    }
}
