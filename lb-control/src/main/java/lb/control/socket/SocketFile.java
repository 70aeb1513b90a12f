package lb.control.socket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;

import jnr.constants.platform.Errno;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.unixsocket.UnixServerSocketChannel;
import jnr.unixsocket.UnixSocketAddress;
import jnr.unixsocket.UnixSocketChannel;
import lb.control.config.Values;

/**
 * The control socket's file: its directory, a stale file left by a crashed lb, its mode and
 * group. Neither jnr nor the JDK removes a stale socket file on bind, so this does, but only
 * after making sure nothing answers on it.
 */
final class SocketFile
{
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    /** While binding, so the file never exists with more than owner access, even for a moment. */
    private static final int BIND_UMASK = 0177;
    private static final Object UMASK_LOCK = new Object();

    private final Path path;
    private final String group;
    private int ownerUid = -1;
    private int groupId = PeerAccess.NO_GROUP;
    private Object fileKey;

    private SocketFile(final Path path, final String group)
    {
        this.path = path;
        this.group = group;
    }

    /**
     * Checks the path, creates missing parent directories (mode 0755) and removes a stale socket.
     *
     * @param path  the socket path.
     * @param group a group name or number, or null.
     * @return the file, ready to {@link #bind()}.
     * @throws IOException saying why the path cannot be used.
     */
    static SocketFile prepare(final Path path, final String group) throws IOException
    {
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > Values.MAX_SOCKET_PATH_BYTES)
        {
            throw new IOException("control socket path " + path + " is longer than the " + Values.MAX_SOCKET_PATH_BYTES +
                " bytes a unix socket address holds");
        }
        final SocketFile file = new SocketFile(path.toAbsolutePath(), group);
        file.createParents();
        file.removeStale();
        return file;
    }

    /** Binds and listens, with the file created owner-only; then sets its group and mode. */
    UnixServerSocketChannel bind() throws IOException
    {
        final POSIX posix = POSIXFactory.getNativePOSIX();
        final UnixServerSocketChannel channel = UnixServerSocketChannel.open();
        try
        {
            // umask is per process: hold it only around bind, the one call that creates the file.
            synchronized (UMASK_LOCK)
            {
                final int previous = posix.umask(BIND_UMASK);
                try
                {
                    channel.socket().bind(new UnixSocketAddress(path.toFile()));
                }
                finally
                {
                    posix.umask(previous);
                }
            }
            fileKey = Files.readAttributes(path, BasicFileAttributes.class,
                LinkOption.NOFOLLOW_LINKS).fileKey();
            ownerUid = (Integer)Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (group != null)
            {
                setGroup();
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
            }
            else
            {
                Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            }
            return channel;
        }
        catch (final IOException | RuntimeException ex)
        {
            channel.close();
            delete();
            throw ex instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith("control socket") ?
                io : new IOException("control socket " + path + ": cannot bind: " + ex.getMessage(), ex);
        }
    }

    /** @return the uid that owns the file (the one lb runs as). */
    int ownerUid()
    {
        return ownerUid;
    }

    /** @return the configured group's id, or {@link PeerAccess#NO_GROUP}. */
    int groupId()
    {
        return groupId;
    }

    /** Removes the file if it is still the socket this process bound (not one a later lb made). */
    void delete()
    {
        try
        {
            if (fileKey != null && fileKey.equals(Files.readAttributes(path,
                BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey()))
            {
                Files.deleteIfExists(path);
            }
        }
        catch (final IOException ignored)
        {
            // Already gone.
        }
    }

    private void setGroup() throws IOException
    {
        final GroupPrincipal principal;
        try
        {
            // The JDK looks up a name, and takes a number when no group has that name.
            principal = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        }
        catch (final UserPrincipalNotFoundException ex)
        {
            throw new IOException("control socket " + path + ": unknown group '" + group + "'");
        }
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(principal);
        groupId = (Integer)Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    private void createParents() throws IOException
    {
        final Path parent = path.getParent();
        if (parent == null || Files.isDirectory(parent))
        {
            return;
        }
        if (Files.exists(parent, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(parent))
        {
            throw new IOException("control socket " + path + ": " + parent + " is not a directory");
        }
        // Create each missing level with mode 0755, whatever the umask says.
        Path missing = parent;
        while (missing.getParent() != null && !Files.exists(missing.getParent()))
        {
            missing = missing.getParent();
        }
        for (Path level = missing; ; level = level.resolve(parent.getName(level.getNameCount())))
        {
            try
            {
                Files.createDirectory(level);
            }
            catch (final FileAlreadyExistsException raced)
            {
                // Made by someone else meanwhile: use it as it is.
            }
            catch (final IOException ex)
            {
                throw new IOException("control socket " + path + ": cannot create directory " + level + ": " + ex, ex);
            }
            Files.setPosixFilePermissions(level, PosixFilePermissions.fromString("rwxr-xr-x"));
            if (level.equals(parent))
            {
                return;
            }
        }
    }

    /**
     * A socket file nothing listens on is left by a crash: connecting tells a live lb from a dead one.
     */
    private void removeStale() throws IOException
    {
        final int mode;
        try
        {
            mode = (Integer)Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        }
        catch (final NoSuchFileException ex)
        {
            return;
        }
        if ((mode & S_IFMT) != S_IFSOCK)
        {
            throw new IOException("control socket " + path + " exists and is not a socket; remove it or choose " +
                "another path");
        }
        switch (probe(path))
        {
            case LISTENING -> throw new IOException("control socket " + path + " is in use by another process");
            case REFUSED -> Files.deleteIfExists(path);
            default -> throw new AssertionError();
        }
    }

    private enum Probe
    {
        LISTENING,
        REFUSED
    }

    private static Probe probe(final Path path) throws IOException
    {
        try (UnixSocketChannel channel = UnixSocketChannel.open())
        {
            // Non-blocking, so a live server with a full backlog (EAGAIN) cannot hang the start.
            channel.configureBlocking(false);
            channel.connect(new UnixSocketAddress(path.toFile()));
            return Probe.LISTENING;
        }
        catch (final IOException ex)
        {
            if (Errno.ECONNREFUSED.toString().equals(ex.getMessage()))
            {
                return Probe.REFUSED;
            }
            throw new IOException("control socket " + path + " exists and cannot be checked: " + ex.getMessage(), ex);
        }
    }
}
