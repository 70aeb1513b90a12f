package lb.control.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How lb announces its VIPs to a router over BGP, through a BIRD it runs as its own child (see
 * {@code lb.control.announce}). The session runs from a kernel address on a management
 * interface, never on lb's data interfaces (they have no kernel addresses); the routes it
 * announces point at lb's client-side address, which lb answers ARP for itself.
 *
 * @param localIp    lb's management address, the session's source and BIRD's router id.
 * @param localAs    lb's AS number.
 * @param neighborIp the router.
 * @param neighborAs the router's AS number.
 * @param nextHop    where the router sends VIP traffic: lb's client-ip unless set.
 * @param bfd        BFD on the session (100 ms x 3), so a dead instance's routes go in about 0.3 s.
 * @param holdTime   BGP hold time (keepalive a third of it), the fallback when BFD is off.
 * @param bird       the BIRD binary.
 * @param runDir     where BIRD's config, control socket and log go.
 */
public record BgpConfig(
    int localIp,
    long localAs,
    int neighborIp,
    long neighborAs,
    int nextHop,
    boolean bfd,
    Duration holdTime,
    Path bird,
    Path runDir)
{
    /** Rejects nulls. */
    public BgpConfig
    {
        Objects.requireNonNull(holdTime, "holdTime");
        Objects.requireNonNull(bird, "bird");
        Objects.requireNonNull(runDir, "runDir");
    }
}
