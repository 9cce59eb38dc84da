// The Kotlin side of bindings/python/bench.py: the same offline searches over the client
// database the Rust benchmark synced (100,000 events), and one trivial sync and async call.
// Run by bench.sh.
package guichet.bench

import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import kotlinx.coroutines.runBlocking
import uniffi.guichet.ChangeListener
import uniffi.guichet.openClient
import uniffi.guichet_sdk.Change
import uniffi.guichet_sdk.EventSearch
import uniffi.guichet_sdk.Near

val WORDS = listOf(
    "jazz", "fete", "opéra", "noel", "sym", "nuit electro", "ZÜRICH", "cafe concert", "ete",
    "contes", "rock lyon", "baroque orchestre", "festival", "t", "lum",
)
val LYON = Near(latitude = 45.76, longitude = 4.84, radiusKm = 30.0)
const val ROUNDS = 25
const val CALLS = 100_000

fun query(text: String? = null, near: Near? = null, after: Long? = null, before: Long? = null) =
    EventSearch(text, after, before, near, false, 20u, 0u)

fun ms(iso: String): Long = Instant.parse(iso).toEpochMilli()

fun percentile(sorted: List<Double>, p: Double): Double = sorted[Math.round((sorted.size - 1) * p).toInt()]

fun main(args: Array<String>): Unit = runBlocking {
    val (catalog, serverUrl) = args
    val dir = Files.createTempDirectory("guichet-bench-kotlin")
    Files.copy(Path.of(catalog), dir.resolve("guichet.db"))
    val client = openClient(serverUrl, dir.toString(), null)
    val handle = client.catalog()
    val queries = WORDS.map { query(text = it) } + listOf(
        query(near = LYON),
        query(text = "jazz", near = LYON),
        query(after = ms("2030-06-01T00:00:00Z"), before = ms("2030-07-01T00:00:00Z")),
        query(),
    )
    val times = mutableListOf<Double>()
    var results = 0
    for (round in 0 until ROUNDS) {
        for (q in queries) {
            val started = System.nanoTime()
            val hits = handle.search(q)
            if (round > 0) times.add((System.nanoTime() - started) / 1e6)
            results += hits.size
        }
    }
    times.sort()
    println(
        "kotlin: offline search, top 20 of 100000 events: ${times.size} searches (${queries.size} distinct queries), " +
            "p50 %.2f ms, p99 %.2f ms, max %.2f ms ($results results)".format(
                percentile(times, 0.5), percentile(times, 0.99), times.last(),
            ),
    )

    val task = client.subscribe(object : ChangeListener { override fun onChange(change: Change) {} })
    repeat(CALLS) { task.isFinished() } // JIT warm-up
    var started = System.nanoTime()
    repeat(CALLS) { task.isFinished() }
    val syncUs = (System.nanoTime() - started) / 1e3 / CALLS
    val awaits = CALLS / 10
    repeat(awaits) { client.account() }
    started = System.nanoTime()
    repeat(awaits) { client.account() }
    val asyncUs = (System.nanoTime() - started) / 1e3 / awaits
    println(
        "kotlin: one sync call %.2f µs (TaskHandle.isFinished, $CALLS calls), one async call %.1f µs (Client.account, $awaits awaits)"
            .format(syncUs, asyncUs),
    )
    task.cancel()
    dir.toFile().deleteRecursively()
}
