/// One claim of a job: its id and the attempt the claim started.
///
/// Each claim bumps the attempt, so a claim names one run. A worker renews, completes and
/// releases only the claims it holds: a run whose lease was lost (the job was rescued and
/// claimed again, perhaps by the same process) can neither renew nor finish the next run.
public struct JobClaim: Sendable, Hashable, CustomStringConvertible {
    /// The job's id.
    public var jobID: Int
    /// The attempt this claim started.
    public var attempt: Int

    /// Creates a claim.
    public init(jobID: Int, attempt: Int) {
        self.jobID = jobID
        self.attempt = attempt
    }

    public var description: String { "\(jobID)#\(attempt)" }
}

extension Job {
    /// The claim this run of the job holds.
    public var claim: JobClaim { JobClaim(jobID: id, attempt: attempt) }
}
