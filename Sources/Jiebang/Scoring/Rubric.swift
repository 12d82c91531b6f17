import Foundation
public import Postgres

/// A programme's rubric (评分标准): the criteria experts score, with weights and score ranges.
///
/// Every programme starts with the default (研发基础条件 30, 创新能力 30, 技术方案 25, 资金支撑 15, each
/// 0–100; the database writes it). The publisher may replace it until the first score of the programme
/// is submitted; the database refuses any later change (`rubric_criteria_locked`).
public struct Rubric: Codable, Sendable, Hashable {
    /// One criterion.
    public struct Criterion: Codable, Sendable, Hashable {
        /// A stable key: lower-case letters, digits and `_`, 2–40 characters, starting with a letter.
        public var key: String
        public var name: String
        /// The relative weight, 1–100.
        public var weight: Int
        public var minScore: Int
        public var maxScore: Int

        /// Creates a criterion.
        public init(key: String, name: String, weight: Int, minScore: Int, maxScore: Int) {
            self.key = key
            self.name = name
            self.weight = weight
            self.minScore = minScore
            self.maxScore = maxScore
        }

        /// The arithmetic's view of the criterion.
        public var forAggregation: ScoreAggregation.Criterion {
            ScoreAggregation.Criterion(key: key, weight: weight, minScore: minScore, maxScore: maxScore)
        }
    }

    public var programmeID: Int
    /// The criteria in order.
    public var criteria: [Criterion]
    /// Whether a score is submitted in the programme, which fixes the rubric.
    public var locked: Bool

    /// The rubric of a programme.
    /// - Throws: `DomainError.notFound` for an unknown programme.
    public static func load(programmeID: Int, on db: PostgresConnection) async throws -> Rubric {
        guard try await db.query("SELECT 1 FROM programmes WHERE id = \(programmeID)").first != nil else {
            throw DomainError.notFound("no programme has id \(programmeID)")
        }
        let criteria = try await db.query(
            """
            SELECT key, name, weight, min_score, max_score FROM rubric_criteria
            WHERE programme_id = \(programmeID) ORDER BY position
            """
        ).map {
            let (key, name, weight, minScore, maxScore) = try $0.decode((String, String, Int, Int, Int).self)
            return Criterion(key: key, name: name, weight: weight, minScore: minScore, maxScore: maxScore)
        }
        let locked = try await db.query(
            "SELECT EXISTS (SELECT 1 FROM review_scores WHERE programme_id = \(programmeID) AND status = 'submitted')"
        ).first!.decode(Bool.self)
        return Rubric(programmeID: programmeID, criteria: criteria, locked: locked)
    }

    /// The rubric a review round's sheets are scored against: its programme's.
    /// - Throws: `DomainError.notFound` for an unknown round.
    public static func load(roundID: Int, on db: PostgresConnection) async throws -> Rubric {
        guard let programme = try await db.query("SELECT programme_id FROM review_rounds WHERE id = \(roundID)").first?.decode(Int.self)
        else { throw DomainError.notFound("no review round has id \(roundID)") }
        return try await load(programmeID: programme, on: db)
    }

    /// Checks criteria as a rubric: 1 to 10, distinct keys, names, weights 1–100, 0 ≤ min < max ≤ 100.
    /// - Throws: `DomainError.invalid` naming every field at fault.
    public static func check(_ criteria: [Criterion]) throws(DomainError) {
        var checker = FieldChecker()
        if !(1...10).contains(criteria.count) { checker.add("criteria", "must have 1 to 10 criteria, not \(criteria.count)") }
        var seen: Set<String> = []
        for (index, criterion) in criteria.enumerated() {
            let field = "criteria[\(index)]"
            if criterion.key.range(of: "^[a-z][a-z0-9_]{1,39}$", options: .regularExpression) == nil {
                checker.add("\(field).key", "must be 2 to 40 lower-case letters, digits or _, starting with a letter")
            } else if !seen.insert(criterion.key).inserted {
                checker.add("\(field).key", "\(criterion.key) is named twice")
            }
            checker.name("\(field).name", criterion.name, 2...50)
            checker.range("\(field).weight", criterion.weight, 1...100)
            checker.range("\(field).minScore", criterion.minScore, 0...99)
            checker.range("\(field).maxScore", criterion.maxScore, 1...100)
            if criterion.minScore >= criterion.maxScore { checker.add("\(field).maxScore", "must be greater than minScore") }
        }
        try checker.check()
    }

    /// Replaces a programme's rubric; drafts lose their values of removed criteria.
    /// - Throws: `DomainError` (not the programme's publisher, invalid criteria, a score already submitted).
    public static func replace(
        programmeID: Int, _ criteria: [Criterion], by actor: Actor, on tx: PostgresConnection
    ) async throws -> Rubric {
        let programme = try await ProgrammeStore.programme(id: programmeID, on: tx)
        try AccessPolicy.requireManager(
            ofBureau: programme.bureauID, actor, missing: "no programme has id \(programmeID)",
            reason: "only a publisher of \(programme.bureauName) sets the rubric of programme \(programmeID)")
        try check(criteria)
        try await tx.execute("SELECT 1 FROM programmes WHERE id = \(programmeID) FOR NO KEY UPDATE")
        if try await load(programmeID: programmeID, on: tx).locked {
            throw DomainError.conflict(field: "criteria", message: "a score of this programme is submitted: its rubric is fixed")
        }
        let keys = criteria.map(\.key)
        return try await ConstraintCatalog.translating {
            try await tx.execute(
                """
                DELETE FROM review_score_items i USING review_scores s
                WHERE s.assignment_id = i.assignment_id AND s.programme_id = \(programmeID) AND NOT (i.criterion_key = ANY (\(keys)))
                """)
            try await tx.execute("DELETE FROM rubric_criteria WHERE programme_id = \(programmeID)")
            try await tx.execute(
                """
                INSERT INTO rubric_criteria (programme_id, key, name, weight, min_score, max_score, position)
                SELECT \(programmeID), key, btrim(name), weight, min_score, max_score, position
                FROM unnest(\(keys), \(criteria.map(\.name)), \(criteria.map(\.weight)), \(criteria.map(\.minScore)),
                            \(criteria.map(\.maxScore))) WITH ORDINALITY AS t(key, name, weight, min_score, max_score, position)
                """)
            try await AuditLog.append(
                actor: actor.displayName, actorID: actor.userID, action: "programme.rubric", entity: "programme",
                entityID: "\(programmeID)", after: ["criteria": keys.joined(separator: ",")], on: tx)
            return try await load(programmeID: programmeID, on: tx)
        }
    }
}
