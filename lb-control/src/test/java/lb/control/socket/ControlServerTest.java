package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.socket.RuntimeApi.FlowSample;
import lb.control.socket.RuntimeApi.FlowState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control socket end to end: a real server on a socket in a temporary directory, driven by
 * JDK unix-socket clients (independent of the jnr code under test), over an in-memory runtime.
 */
class ControlServerTest
{
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final InMemoryRuntime runtime = InMemoryRuntime.withWebService();
    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<ControlServer> servers = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();

    @AfterEach
    void closeEverything()
    {
        for (final Client client : clients)
        {
            client.close();
        }
        for (final ControlServer server : servers)
        {
            server.close();
        }
    }

    private ControlServer start(final ControlSocketOptions options) throws IOException
    {
        final CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(log::add), runtime);
        final ControlServer server = ControlServer.start(options, dispatcher, log::add);
        servers.add(server);
        return server;
    }

    private ControlServer start() throws IOException
    {
        return start(ControlSocketOptions.at(dir.resolve("lb.sock")));
    }

    private Client connect(final Path path) throws IOException
    {
        final Client client = new Client(path);
        clients.add(client);
        return client;
    }

    @Test
    void answersEachLineAndEndsEachAnswerWithAnEmptyLine() throws Exception
    {
        final ControlServer server = start();
        final Client client = connect(server.path());
        client.send("show info\n");
        final String info = client.answer();
        assertTrue(info.matches("(?s)version: +0\\.1\\.0-test\n.*"), info);
        client.send("\r\n");
        assertEquals("", client.answer());
        client.send("set weight web 198.18.1.11 5\r\nxyz\n");
        assertEquals("web 198.18.1.11: weight 5\n", client.answer());
        assertEquals("error: unknown command 'xyz'; try 'help'\n", client.answer());
        client.send("show stat json\n");
        assertTrue(Json.parse(client.answer()) instanceof Map<?, ?>);
        client.send("quit\nshow info\n");
        assertTrue(client.readsEndOfStream(), "quit closes the connection and nothing after it runs");
        assertEquals(List.of(), log);
    }

    @Test
    void servesSeveralClientsAtOnce() throws Exception
    {
        final ControlServer server = start();
        // One client stalls in the middle of a line: the others must not wait for it.
        final Client stalled = connect(server.path());
        stalled.send("show in");

        final int clientCount = 6;
        final int rounds = 40;
        final ExecutorService pool = Executors.newFixedThreadPool(clientCount);
        try
        {
            final List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < clientCount; c++)
            {
                final int id = c;
                results.add(pool.submit(() ->
                {
                    try (Client client = new Client(server.path()))
                    {
                        int answered = 0;
                        for (int round = 0; round < rounds; round++)
                        {
                            final int weight = id * 1000 + round;
                            client.send("set weight web 198.18.1.12:8080 " + weight + "\n");
                            assertEquals("web 198.18.1.12:8080: weight " + weight + "\n", client.answer());
                            client.send("show stat json\n");
                            final Object stat = Json.parse(client.answer());
                            assertTrue(stat instanceof Map<?, ?>);
                            answered += 2;
                        }
                        return answered;
                    }
                }));
            }
            int answered = 0;
            for (final Future<Integer> result : results)
            {
                answered += result.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
            assertEquals(clientCount * rounds * 2, answered);
        }
        finally
        {
            pool.shutdownNow();
        }
        // The last weight set is one of the last rounds' weights.
        assertEquals(rounds - 1, runtime.backend("web", "198.18.1.12:8080").weight() % 1000);

        stalled.send("fo\n");
        assertTrue(stalled.answer().startsWith("version:"));
        assertEquals(List.of(), log);
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws Exception
    {
        final ControlServer server = start();
        final Client client = connect(server.path());
        final StringBuilder commands = new StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            commands.append("set weight web 198.18.1.11 ").append(i).append('\n');
        }
        client.send(commands.toString());
        for (int i = 0; i < 300; i++)
        {
            assertEquals("web 198.18.1.11: weight " + i + "\n", client.answer());
        }
        assertEquals(299, runtime.backend("web", "198.18.1.11:80").weight());
    }

    @Test
    void aTooLongLineIsRejectedAndTheConnectionStaysUsable() throws Exception
    {
        final ControlServer server = start();
        final Client client = connect(server.path());
        // The error comes as soon as the limit is passed, before the line ends.
        client.send("x".repeat(5000));
        assertEquals("error: line longer than 4096 bytes; the rest of it is ignored\n", client.answer());
        client.send("y".repeat(10_000) + "\nshow info\n");
        assertTrue(client.answer().startsWith("version:"));

        // Exactly 4096 bytes (with \r\n) is a line like any other; 4097 is too long.
        client.send("z".repeat(4096) + "\r\n");
        assertTrue(client.answer().startsWith("error: unknown command 'zzzz"));
        client.send("z".repeat(4097) + "\n");
        assertEquals("error: line longer than 4096 bytes\n", client.answer());
        client.send("set weight web 198.18.1.11 8\n");
        assertEquals("web 198.18.1.11: weight 8\n", client.answer());
    }

    @Test
    void aClientVanishingMidCommandHarmsNothing() throws Exception
    {
        final ControlServer server = start();

        // A command cut off by the client closing is not carried out.
        final Client cut = connect(server.path());
        cut.send("set weight web 198.18.1.11 9");
        cut.close();

        // A client that asks for much and leaves without reading.
        final Client greedy = connect(server.path());
        greedy.send("show metrics\n".repeat(500));
        greedy.close();

        // A client that connects and leaves at once.
        connect(server.path()).close();

        waitUntil(() -> server.clientCount() == 0, "every vanished client is let go");
        assertEquals(3, runtime.backend("web", "198.18.1.11:80").weight());
        final Client next = connect(server.path());
        next.send("show info\n");
        assertTrue(next.answer().startsWith("version:"));
        assertEquals(List.of(), log);
    }

    @Test
    void aSlowReaderIsThrottledNotDropped() throws Exception
    {
        final ControlServer server = start(ControlSocketOptions.at(dir.resolve("lb.sock")).withMaxOutputBytes(64 * 1024));
        final Client client = connect(server.path());
        final int commands = 3000;
        client.send("show stat\n".repeat(commands));
        // Answers total about 900 KB, far beyond the 64 KiB limit, but the server stops reading
        // commands while answers are unread, so all of them arrive once the client reads.
        for (int i = 0; i < commands; i++)
        {
            assertTrue(client.answer().startsWith("SERVICE"), "answer " + i);
        }
        assertEquals(1, server.clientCount());
        assertEquals(List.of(), log);
    }

    @Test
    void aClientWhoseUnreadAnswersPassTheLimitIsClosed() throws Exception
    {
        for (int i = 0; i < 3000; i++)
        {
            runtime.addFlow(new FlowSample(Protocol.TCP, Ipv4.parse("198.18.0.7"), 10_000 + i,
                Ipv4.parse("198.18.0.100"), 80, "web", Ipv4.parse("198.18.1.11"), 80, FlowState.ESTABLISHED,
                Duration.ofSeconds(1), 1, 100));
        }
        final ControlServer server = start(ControlSocketOptions.at(dir.resolve("lb.sock")).withMaxOutputBytes(64 * 1024));
        final Client client = connect(server.path());
        client.send("show flows 3000\n");
        assertTrue(client.readsEndOfStream());
        waitUntil(() -> server.clientCount() == 0, "the client is let go");
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).matches("control socket: closed client pid \\d+ uid \\d+ gid \\d+: an answer of \\d+ " +
            "bytes on top of 0 unsent would exceed the limit of 65536 bytes"), log.get(0));

        final Client other = connect(server.path());
        other.send("show flows 10\n");
        assertEquals(11, other.answer().split("\n").length);
    }

    @Test
    void theSocketFileIsOwnerOnlyAndGoesAwayOnClose() throws Exception
    {
        final Path path = dir.resolve("run/lb/lb.sock");
        final ControlServer server = start(ControlSocketOptions.at(path));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)));
        assertEquals(0140000, (Integer)Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000);
        assertEquals(Files.getOwner(dir), Files.getOwner(path, LinkOption.NOFOLLOW_LINKS));
        assertEquals(server.access().ownerUid(), (Integer)Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run"))));
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("run/lb"))));

        final Client client = connect(path);
        client.send("show info\n");
        assertTrue(client.answer().startsWith("version:"));

        server.close();
        assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
        assertTrue(client.readsEndOfStream(), "clients are closed with the server");
        assertThrows(IOException.class, () -> new Client(path));
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            assertFalse(thread.getName().equals("lb-control-socket") && thread.isAlive(), "thread stopped");
        }
    }

    @Test
    void aGroupMakesTheFileGroupReadableAndWritable() throws Exception
    {
        final Path path = dir.resolve("lb.sock");
        final ControlServer server = start(ControlSocketOptions.at(path).withGroup("nogroup"));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)));
        assertEquals("nogroup", Files.readAttributes(path, java.nio.file.attribute.PosixFileAttributes.class,
            LinkOption.NOFOLLOW_LINKS).group().getName());
        assertEquals(65534, server.access().groupId());
    }

    @Test
    void anUnknownGroupIsRefusedAndLeavesNoFile()
    {
        final Path path = dir.resolve("lb.sock");
        final IOException ex = assertThrows(IOException.class,
            () -> start(ControlSocketOptions.at(path).withGroup("no-such-group-lb")));
        assertEquals("control socket " + path + ": unknown group 'no-such-group-lb'", ex.getMessage());
        assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aStaleSocketFileIsReplaced() throws Exception
    {
        final Path path = dir.resolve("lb.sock");
        // A socket file left behind, as by a crashed lb: the JDK does not remove it on close either.
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX))
        {
            stale.bind(UnixDomainSocketAddress.of(path));
        }
        assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS));

        final ControlServer server = start(ControlSocketOptions.at(path));
        final Client client = connect(server.path());
        client.send("show info\n");
        assertTrue(client.answer().startsWith("version:"));
    }

    @Test
    void aLiveSocketIsNotTakenOver() throws Exception
    {
        final Path path = dir.resolve("lb.sock");
        final ControlServer first = start(ControlSocketOptions.at(path));
        final IOException ex = assertThrows(IOException.class, () -> start(ControlSocketOptions.at(path)));
        assertEquals("control socket " + path + " is in use by another process", ex.getMessage());

        final Client client = connect(first.path());
        client.send("show info\n");
        assertTrue(client.answer().startsWith("version:"));
    }

    @Test
    void aPathThatIsNotASocketIsRefused() throws Exception
    {
        final Path path = dir.resolve("lb.sock");
        Files.writeString(path, "precious");
        final IOException ex = assertThrows(IOException.class, () -> start(ControlSocketOptions.at(path)));
        assertEquals("control socket " + path + " exists and is not a socket; remove it or choose another path",
            ex.getMessage());
        assertEquals("precious", Files.readString(path));
    }

    @Test
    void aPathTooLongForASocketAddressIsRefused()
    {
        final Path path = dir.resolve("d".repeat(120) + ".sock");
        final IOException ex = assertThrows(IOException.class, () -> start(ControlSocketOptions.at(path)));
        assertTrue(ex.getMessage().endsWith("is longer than the 107 bytes a unix socket address holds"), ex.getMessage());
    }

    @Test
    void anotherUserIsRefusedByModeAndByCredentials() throws Exception
    {
        requireRootAndRunuser();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        final Path path = dir.resolve("lb.sock");
        final ControlServer server = start(ControlSocketOptions.at(path));

        // First line of defence: mode 0600 keeps nobody from connecting at all.
        assertEquals("connect failed: Permission denied\n", runAsNobody(path));

        // Second: with the mode loosened by mistake, the peer check still refuses.
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertEquals("error: permission denied: uid 65534 may not use " + path + "\n\n", runAsNobody(path));
        waitUntil(() -> server.clientCount() == 0, "the refused client is closed");
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.get(0).matches("control socket: refused pid \\d+ uid 65534 gid 65534: not root, uid 0"), log.get(0));
    }

    @Test
    void membersOfTheGroupAreLetIn() throws Exception
    {
        requireRootAndRunuser();
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        final Path path = dir.resolve("lb.sock");
        start(ControlSocketOptions.at(path).withGroup("nogroup"));
        final String answer = runAsNobody(path);
        assertTrue(answer.matches("(?s)version: +0\\.1\\.0-test\n.*"), answer);
        assertTrue(answer.endsWith("\n\n"), answer);
        assertEquals(List.of(), log);
    }

    private static void requireRootAndRunuser() throws IOException
    {
        // These tests switch user; the project's test machines run as root (AF_PACKET needs it too).
        assertEquals(0, (Integer)Files.getAttribute(Path.of("/proc/self"), "unix:uid"),
            "this test needs root to run a client as nobody");
        assertTrue(Files.isExecutable(Path.of("/usr/sbin/runuser")), "this test needs /usr/sbin/runuser");
        assertTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "this test needs /usr/bin/python3");
    }

    /** Runs a small unix-socket client as user nobody; it prints what it received until the server closed. */
    private static String runAsNobody(final Path socket) throws Exception
    {
        final String script = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "s.settimeout(10)",
            "try:",
            "    s.connect(sys.argv[1])",
            "except OSError as e:",
            "    print('connect failed: ' + e.strerror)",
            "    sys.exit(0)",
            "try:",
            "    s.sendall(b'show info\\nquit\\n')",
            "except OSError:",
            "    pass",
            "data = b''",
            "while True:",
            "    try:",
            "        chunk = s.recv(65536)",
            "    except ConnectionResetError:",
            "        break",  // a server that closes with our command unread resets, after its data
            "    if not chunk:",
            "        break",
            "    data += chunk",
            "sys.stdout.write(data.decode())",
            "");
        final Process process = new ProcessBuilder("/usr/sbin/runuser", "-u", "nobody", "--",
            "/usr/bin/python3", "-c", script, socket.toString())
            .directory(new java.io.File("/")).redirectErrorStream(true).start();
        final String output;
        try
        {
            assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "client as nobody finished");
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        finally
        {
            process.destroyForcibly();
        }
        assertEquals(0, process.exitValue(), output);
        return output;
    }

    private static void waitUntil(final BooleanSupplier condition, final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("not within " + WAIT + ": " + what);
            }
            Thread.sleep(5);
        }
    }

    /** A JDK unix-socket client that reads answers as the protocol frames them, never waiting forever. */
    static final class Client implements AutoCloseable
    {
        private final SocketChannel channel;
        private final Selector selector;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();

        Client(final Path path) throws IOException
        {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
            channel.configureBlocking(false);
            selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        }

        void send(final String text) throws IOException
        {
            final ByteBuffer out = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            final long deadline = System.nanoTime() + WAIT.toNanos();
            while (out.hasRemaining())
            {
                if (channel.write(out) == 0)
                {
                    if (System.nanoTime() > deadline)
                    {
                        throw new AssertionError("server did not take the input within " + WAIT);
                    }
                    // The server reads no more while answers are unread: keep them, as a script would.
                    readSome(1);
                }
            }
        }

        /** @return the next answer without the empty line that ends it. */
        String answer() throws IOException
        {
            final long deadline = System.nanoTime() + WAIT.toNanos();
            while (true)
            {
                final String answer = takeAnswer();
                if (answer != null)
                {
                    return answer;
                }
                if (System.nanoTime() > deadline)
                {
                    throw new AssertionError("no complete answer within " + WAIT + "; have: " + received);
                }
                if (readSome(100) < 0)
                {
                    throw new AssertionError("server closed before the answer ended; have: " + received);
                }
            }
        }

        /** @return true if the server closes the connection (anything sent before is discarded). */
        boolean readsEndOfStream() throws IOException
        {
            final long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline)
            {
                try
                {
                    if (readSome(100) < 0)
                    {
                        return true;
                    }
                }
                catch (final IOException reset)
                {
                    return true;
                }
            }
            return false;
        }

        private String takeAnswer()
        {
            final byte[] bytes = received.toByteArray();
            int lineStart = 0;
            for (int i = 0; i < bytes.length; i++)
            {
                if (bytes[i] != '\n')
                {
                    continue;
                }
                if (i == lineStart)
                {
                    final String answer = new String(bytes, 0, lineStart, StandardCharsets.UTF_8);
                    received.reset();
                    received.write(bytes, i + 1, bytes.length - i - 1);
                    return answer;
                }
                lineStart = i + 1;
            }
            return null;
        }

        private int readSome(final long timeoutMs) throws IOException
        {
            selector.select(timeoutMs);
            selector.selectedKeys().clear();
            buffer.clear();
            final int read = channel.read(buffer);
            if (read > 0)
            {
                received.write(buffer.array(), 0, read);
            }
            return read;
        }

        @Override
        public void close()
        {
            try
            {
                selector.close();
                channel.close();
            }
            catch (final IOException ignored)
            {
                // Closing a test client: nothing to do about it.
            }
        }
    }
}
