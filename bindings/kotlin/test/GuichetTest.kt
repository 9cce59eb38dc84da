// The Kotlin binding against a live guichet-server that the tests start themselves (a
// temporary SQLite file, a free port, demo data off, test payments). Run by build.sh, which
// sets guichet.server.bin and jna.library.path; main() prints "kotlin: N passed, N failed".
package guichet.test

import java.io.IOException
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Files
import java.nio.file.Path
import java.util.UUID
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.AfterClass
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.BeforeClass
import org.junit.Test
import org.junit.runner.JUnitCore
import uniffi.guichet.Client
import uniffi.guichet.GuichetException
import uniffi.guichet.ProgressListener
import uniffi.guichet.openClient
import uniffi.guichet.pairDoor
import uniffi.guichet_sdk.CheckInListDraft
import uniffi.guichet_sdk.Direction
import uniffi.guichet_sdk.ErrorKind
import uniffi.guichet_sdk.EventDraft
import uniffi.guichet_sdk.EventSearch
import uniffi.guichet_sdk.HoldLine
import uniffi.guichet_sdk.OrderStatus
import uniffi.guichet_sdk.Outcome
import uniffi.guichet_sdk.Progress
import uniffi.guichet_sdk.Role
import uniffi.guichet_sdk.SignUp
import uniffi.guichet_sdk.Task
import uniffi.guichet_sdk.TicketTypeDraft

const val HOUR_MS = 3_600_000L

/** One guichet-server process on its own database. */
class LiveServer(binary: String) : AutoCloseable {
    private val dir: Path = Files.createTempDirectory("guichet-kotlin-server")
    private val port = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private val process: Process

    init {
        val builder = ProcessBuilder(binary)
        builder.environment().putAll(
            mapOf(
                "DATABASE_URL" to "sqlite://${dir.resolve("server.db")}",
                "GUICHET_SECRET_FILE" to dir.resolve("server.secret").toString(),
                "GUICHET_BIND" to "127.0.0.1:$port",
                "GUICHET_DEMO" to "false",
                "GUICHET_PAYMENT_PROVIDER" to "test",
                "GUICHET_AUTH_RATE_PER_MINUTE" to "100000",
                "GUICHET_AUTH_RATE_BURST" to "100000",
                "GUICHET_HOLD_RATE_PER_MINUTE" to "100000",
            ),
        )
        val log = dir.resolve("server.log").toFile()
        builder.redirectErrorStream(true).redirectOutput(log)
        process = builder.start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60)
        while (!ready()) {
            check(process.isAlive) { "guichet-server exited: ${log.readText()}" }
            check(System.nanoTime() < deadline) { "guichet-server did not become ready" }
            Thread.sleep(100)
        }
    }

    private fun ready(): Boolean = try {
        val connection = URI("$url/ready").toURL().openConnection() as HttpURLConnection
        connection.connectTimeout = 1000
        connection.readTimeout = 1000
        connection.responseCode == 200
    } catch (e: IOException) {
        false
    }

    override fun close() {
        process.destroy()
        process.waitFor(30, TimeUnit.SECONDS)
    }
}

class GuichetTest {
    companion object {
        lateinit var server: LiveServer

        @BeforeClass @JvmStatic
        fun start() {
            server = LiveServer(System.getProperty("guichet.server.bin"))
        }

        @AfterClass @JvmStatic
        fun stop() {
            server.close()
        }
    }

    private fun dataDir(name: String): String = Files.createTempDirectory("guichet-kotlin-$name").toString()

    private fun account(role: Role) = SignUp(
        email = "${UUID.randomUUID().toString().take(12)}@example.test",
        password = "correct horse battery",
        displayName = "Kotlin person",
        role = role,
    )

    private suspend fun signedIn(role: Role, dir: String = dataDir("client")): Client {
        val client = openClient(server.url, dir, null)
        client.signUp(account(role))
        return client
    }

    /** A published event with one ticket type, starting in `startsInMs`: (event id, type id). */
    private suspend fun publishedEvent(organizer: Client, title: String, startsInMs: Long): Pair<String, String> {
        val tools = organizer.organizer()
        val now = System.currentTimeMillis()
        val start = now + startsInMs
        val event = tools.createEvent(
            EventDraft(
                title = title, description = "An evening of music", venue = "Salle Pleyel",
                city = "Paris", latitude = 48.8768, longitude = 2.3006, startsAt = start,
                endsAt = start + 3 * HOUR_MS, timeZone = "Europe/Paris", online = false,
            ),
        )
        val type = tools.addTicketType(
            event.id,
            TicketTypeDraft(
                name = "Standard", priceMinor = 2500, currency = "EUR", capacity = 10,
                saleStartsAt = now - HOUR_MS, saleEndsAt = start, maxPerOrder = 10,
            ),
        )
        tools.publishEvent(event.id)
        return event.id to type.id
    }

    private fun search(text: String) = EventSearch(
        text = text, startsAfter = null, startsBefore = null, near = null,
        includePast = false, limit = 10u, offset = 0u,
    )

    @Test
    fun attendeeJourneyWithCoroutines() = runBlocking {
        val organizer = signedIn(Role.ORGANIZER)
        val (eventId, typeId) = publishedEvent(organizer, "Nuit Kotlin Étoilée", 30 * 24 * HOUR_MS)

        val dir = dataDir("attendee")
        val client = signedIn(Role.ATTENDEE, dir)
        assertTrue(client.catalog().sync().upserted >= 1u)
        val hits = client.catalog().search(search("kotlin etoilee"))
        assertEquals(listOf(eventId), hits.map { it.event.id })

        val hold = client.booking().hold(eventId, listOf(HoldLine(ticketTypeId = typeId, quantity = 2)))
        assertEquals(5000L, hold.totalMinor)
        val order = client.booking().checkout(hold.id, "tok_visa")
        assertEquals(OrderStatus.COMPLETED, order.status)
        assertEquals(2, order.tickets.size)

        // Another client on the same data directory: the session and the wallet are back.
        val again = openClient(server.url, dir, null)
        assertNotNull(again.account())
        again.wallet().sync()
        val tickets = again.wallet().tickets()
        assertEquals(order.tickets.map { it.id }.sorted(), tickets.map { it.ticket.id }.sorted())
        val png = again.wallet().qrPng(tickets[0], 4u)
        assertArrayEquals(byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte()), png.copyOfRange(0, 4))
    }

    @Test
    fun doorScan() = runBlocking {
        val organizer = signedIn(Role.ORGANIZER)
        val (eventId, typeId) = publishedEvent(organizer, "Kotlin door night", HOUR_MS)
        val tools = organizer.organizer()
        val list = tools.createCheckInList(
            eventId,
            CheckInListDraft(name = "Main", ticketTypeIds = listOf(typeId), gates = listOf("north"), reEntry = false),
        )
        val buyer = signedIn(Role.ATTENDEE)
        val hold = buyer.booking().hold(eventId, listOf(HoldLine(ticketTypeId = typeId, quantity = 1)))
        val ticket = buyer.booking().checkout(hold.id, "tok_visa").tickets.single()

        val code = tools.pairingCode(list.id).code
        val door = pairDoor(server.url, dataDir("door"), "north", code, "Kotlin door", null)
        val admitted = door.scan(ticket.credential, Direction.ENTRY)
        assertTrue(admitted.admitted)
        assertNull(admitted.reason)
        assertEquals(ticket.id, admitted.ticketId)
        val again = door.scan(ticket.credential, Direction.ENTRY)
        assertFalse(again.admitted)
        assertEquals("already_inside", again.reason)
        val garbage = door.scan("not a ticket", Direction.ENTRY)
        assertEquals(listOf("invalid", "malformed"), listOf(garbage.reason, garbage.detail))
        door.sync()
        assertEquals(0L, door.unpushedCount())
    }

    @Test
    fun errorsArriveWithTheirKind() = runBlocking {
        val client = openClient(server.url, dataDir("errors"), null)
        try {
            client.logIn("nobody-${UUID.randomUUID()}@example.test", "not the password")
            fail("logged in with a wrong password")
        } catch (e: GuichetException.Failed) {
            assertEquals(ErrorKind.UNAUTHENTICATED, e.kind)
        }
    }

    @Test
    fun progressListenerHearsTheCatalogSync() {
        val client = runBlocking { signedIn(Role.ATTENDEE) }
        val seen = CopyOnWriteArrayList<Progress>()
        val finished = CountDownLatch(1)
        val outcomes = CopyOnWriteArrayList<Pair<Task, Outcome>>()
        val handle = client.catalog().syncTask(
            object : ProgressListener {
                override fun onProgress(progress: Progress) {
                    seen.add(progress)
                }

                override fun onFinished(task: Task, outcome: Outcome) {
                    outcomes.add(task to outcome)
                    finished.countDown()
                }
            },
        )
        assertTrue(finished.await(30, TimeUnit.SECONDS))
        assertEquals(listOf(Task.CATALOG_SYNC to Outcome.Completed), outcomes.toList())
        // The flag is set just after the listener hears the outcome: wait for it.
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (!handle.isFinished() && System.nanoTime() < deadline) Thread.sleep(10)
        assertTrue(handle.isFinished())
        assertTrue(seen.all { it.task == Task.CATALOG_SYNC })
    }

    @Test
    fun twoClientsFromTwoThreads() = runBlocking {
        val synced = (1..2).map {
            async(Dispatchers.IO) { signedIn(Role.ATTENDEE).catalog().sync() }
        }.awaitAll()
        assertEquals(synced[0].upserted, synced[1].upserted)
    }
}

fun main() {
    val result = JUnitCore().run(GuichetTest::class.java)
    for (failure in result.failures) {
        println("FAILED ${failure.testHeader}\n${failure.trace}")
    }
    val passed = result.runCount - result.failureCount
    println("kotlin: $passed passed, ${result.failureCount} failed")
    exitProcess(if (result.wasSuccessful()) 0 else 1)
}
