// HTTP CONNECT on the sidecar outbound: the app asks for `CONNECT <service>:<port>`; the sidecar opens mTLS (ALPN
// "meshfed-tcp", SNI outbound_.<port>_._.<host>) to the destination sidecar or the remote gateway, answers 200 and
// splices raw bytes. The destination inbound sees the ALPN and splices to the app port instead of parsing HTTP.
export const TCP_ALPN = 'meshfed-tcp';
