package lb.control.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * A {@link FreshTestbed} whose lb gets its control socket in a directory of its own under /run
 * (not the default /run/lb/lb.sock, which another lb on this machine may hold), for tests that
 * talk to lb through {@code bin/lbctl}.
 */
abstract class ControlSocketTestbed extends FreshTestbed
{
    Path socketDir;
    Path socket;

    @BeforeEach
    void socketPath() throws Exception
    {
        socketDir = Files.createDirectories(Path.of("/run/lb-it-" + UUID.randomUUID().toString().substring(0, 8)));
        socket = socketDir.resolve("lb.sock");
    }

    @AfterEach
    void removeSocketDir() throws Exception
    {
        Files.deleteIfExists(socket);
        Files.deleteIfExists(socketDir);
    }
}
