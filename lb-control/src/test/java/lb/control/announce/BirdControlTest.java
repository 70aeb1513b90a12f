package lb.control.announce;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BIRD's control-socket protocol, against a socket that answers the way BIRD 2.0.12 does. */
class BirdControlTest
{
    @TempDir
    Path dir;

    /** Serves one connection: the greeting, then for each command line read the next canned reply. */
    private CompletableFuture<List<String>> serve(final Path socket, final String greeting, final List<String> replies)
        throws IOException
    {
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        return CompletableFuture.supplyAsync(() ->
        {
            final List<String> commands = new ArrayList<>();
            try (server; SocketChannel client = server.accept())
            {
                client.write(ByteBuffer.wrap(greeting.getBytes(StandardCharsets.US_ASCII)));
                final ByteBuffer in = ByteBuffer.allocate(4096);
                final StringBuilder line = new StringBuilder();
                int next = 0;
                while (next < replies.size() && client.read(in) > 0)
                {
                    in.flip();
                    while (in.hasRemaining())
                    {
                        final char c = (char)in.get();
                        if (c != '\n')
                        {
                            line.append(c);
                            continue;
                        }
                        commands.add(line.toString());
                        line.setLength(0);
                        // Split the reply in two writes: lines may arrive in pieces.
                        final byte[] reply = replies.get(next++).getBytes(StandardCharsets.US_ASCII);
                        client.write(ByteBuffer.wrap(reply, 0, reply.length / 2));
                        client.write(ByteBuffer.wrap(reply, reply.length / 2, reply.length - reply.length / 2));
                    }
                    in.clear();
                }
            }
            catch (final IOException ex)
            {
                commands.add("server failed: " + ex);
            }
            return commands;
        });
    }

    @Test
    void readsMultiLineRepliesContinuationsAndErrors() throws Exception
    {
        final Path socket = dir.resolve("bird.ctl");
        final CompletableFuture<List<String>> served = serve(socket, "0001 BIRD 2.0.12 ready.\n", List.of(
            "2002-Name       Proto      Table      State  Since         Info\n" +
                "1002-device1    Device     ---        up     04:48:32.810  \n" +
                " vip_198_18_0_100 Static  master4    up     04:48:59.070  \n" +
                " uplink     BGP        ---        up     04:49:03.917  Established   \n" +
                "0000 \n",
            "0011 vip_198_18_0_100: enabled\n",
            "9001 syntax error, unexpected CF_SYM_UNDEFINED\n"));
        try (BirdControl control = BirdControl.connect(socket, 2_000))
        {
            final BirdControl.Reply protocols = control.command("show protocols");
            assertEquals(0, protocols.code());
            assertFalse(protocols.failed());
            assertEquals(5, protocols.lines().size(), protocols.lines().toString());
            assertTrue(protocols.lines().get(3).trim().startsWith("uplink"), protocols.lines().toString());
            final BirdControl.Reply enable = control.command("enable vip_198_18_0_100");
            assertEquals(11, enable.code());
            final BirdControl.Reply bad = control.command("enable nonsense");
            assertEquals(9001, bad.code());
            assertTrue(bad.failed());
        }
        assertEquals(List.of("show protocols", "enable vip_198_18_0_100", "enable nonsense"), served.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aSilentOrStrangePeerFailsWithinTheTimeout() throws Exception
    {
        final Path silent = dir.resolve("silent.ctl");
        final ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(silent));
        try (server)
        {
            final long start = System.nanoTime();
            final IOException ex = assertThrows(IOException.class, () -> BirdControl.connect(silent, 300));
            assertTrue(ex.getMessage().contains("did not answer within 300 ms"), ex.getMessage());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "bounded wait");
        }

        final Path strange = dir.resolve("strange.ctl");
        serve(strange, "hello there\n", List.of());
        final IOException ex = assertThrows(IOException.class, () -> BirdControl.connect(strange, 2_000));
        assertTrue(ex.getMessage().contains("without a reply code"), ex.getMessage());

        assertThrows(IOException.class, () -> BirdControl.connect(dir.resolve("missing.ctl"), 300));
    }
}
