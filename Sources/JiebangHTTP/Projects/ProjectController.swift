import Foundation
import Hummingbird
import Jiebang
import Postgres

/// Projects in execution: created from a final award by the publisher; milestones submitted by the lead
/// unit and decided by the publisher; tranches paid; racers stopped; progress reports filed by the city's
/// recommender; change requests made by the lead and decided by the publisher.
struct ProjectController {
    let database: PostgresClient

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("v1/projects", use: create)
        router.get("v1/projects/:id", use: show)
        router.post("v1/projects/:id/milestones/:position/submission", use: submitMilestone)
        router.post("v1/projects/:id/milestones/:position/decision", use: decideMilestone)
        router.post("v1/projects/:id/tranches/:trancheID/payment", use: pay)
        router.post("v1/projects/:id/stop", use: stop)
        router.post("v1/projects/:id/progress-reports", use: fileReport)
        router.post("v1/projects/:id/changes", use: requestChange)
        router.post("v1/projects/:id/changes/:changeID/decision", use: decideChange)
    }

    struct Decision: Decodable {
        var approve: Bool
        var note: String?
    }

    struct Stop: Decodable {
        var reason: String
    }

    struct Report: Decodable {
        var year: Int
        var content: String
    }

    struct Filed: Encodable {
        var projectID: Int
        var year: Int
        var late: Bool
    }

    struct ChangeRequest: Decodable {
        var kind: String
        var reason: String
        var newDeadline: String?
        var details: String?
    }

    struct ChangeCreated: Encodable {
        var id: Int
        var projectID: Int
        var status: String
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "start projects")
        var request = request
        let (input, body) = try await request.decodeJSON(Project.Input.self, context: context)
        return try await Creation(database: database).respond(to: request, body: body, context: context) { tx in
            let project = try await ProjectStore.create(input, by: actor, on: tx)
            return try JSONAnswer(
                project, status: .created, revision: project.revision,
                location: "/v1/projects/\(project.id)", context: context)
        }
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        let id = try context.id()
        let project = try await database.withConnection {
            try await ProjectStore.project(id: id, by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }

    @Sendable func submitMilestone(_ request: Request, context: AppRequestContext) async throws
        -> Response
    {
        let actor = try context.requireActor()
        let id = try context.id()
        let position = try context.id("position")
        let project = try await database.withTransaction {
            try await ProjectStore.submitMilestone(projectID: id, position: position, by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }

    @Sendable func decideMilestone(_ request: Request, context: AppRequestContext) async throws
        -> Response
    {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "decide milestones")
        let id = try context.id()
        let position = try context.id("position")
        var request = request
        let (decision, _) = try await request.decodeJSON(Decision.self, context: context)
        let project = try await database.withTransaction {
            try await ProjectStore.decideMilestone(
                projectID: id, position: position, approve: decision.approve, by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }

    @Sendable func pay(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "pay tranches")
        let id = try context.id()
        let tranche = try context.id("trancheID")
        let project = try await database.withTransaction {
            try await ProjectStore.payTranche(projectID: id, trancheID: tranche, by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }

    @Sendable func stop(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "stop projects")
        let id = try context.id()
        var request = request
        let (stop, _) = try await request.decodeJSON(Stop.self, context: context)
        let project = try await database.withTransaction {
            try await ProjectStore.stop(projectID: id, reason: stop.reason, by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }

    @Sendable func fileReport(_ request: Request, context: AppRequestContext) async throws -> Response {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.municipalRecommender], to: "file progress reports")
        let id = try context.id()
        var request = request
        let (report, _) = try await request.decodeJSON(Report.self, context: context)
        let late = try await database.withTransaction {
            try await ProjectStore.fileProgressReport(
                projectID: id, year: report.year, content: report.content, by: actor, on: $0)
        }
        return try JSONAnswer(
            Filed(projectID: id, year: report.year, late: late), status: .created, context: context
        ).response
    }

    @Sendable func requestChange(_ request: Request, context: AppRequestContext) async throws
        -> Response
    {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.unitAdmin], to: "request project changes")
        let id = try context.id()
        var request = request
        let (change, _) = try await request.decodeJSON(ChangeRequest.self, context: context)
        let changeID = try await database.withTransaction {
            try await ProjectStore.requestChange(
                projectID: id, kind: change.kind, reason: change.reason, newDeadline: change.newDeadline,
                details: change.details ?? "",
                by: actor, on: $0)
        }
        return try JSONAnswer(
            ChangeCreated(id: changeID, projectID: id, status: "pending"), status: .created,
            context: context
        ).response
    }

    @Sendable func decideChange(_ request: Request, context: AppRequestContext) async throws
        -> Response
    {
        let actor = try context.requireActor()
        try AccessPolicy.require(actor, [.provincialPublisher], to: "decide project changes")
        let id = try context.id()
        let change = try context.id("changeID")
        var request = request
        let (decision, _) = try await request.decodeJSON(Decision.self, context: context)
        let project = try await database.withTransaction {
            try await ProjectStore.decideChange(
                projectID: id, changeID: change, approve: decision.approve, note: decision.note ?? "",
                by: actor, on: $0)
        }
        return try JSONAnswer(project, revision: project.revision, context: context).response
    }
}
