"""A server reflection client on Debian's python3-grpcio and python3-protobuf. Debian ships no
grpcio-reflection (grpc_reflection), so this does by hand what its ProtoReflectionDescriptorDatabase
does: ask over one grpc.reflection.v1alpha ServerReflectionInfo stream (requests and responses
encoded by hand), load the FileDescriptorProtos answered into a DescriptorPool, make message classes
from them, and call the service with those classes alone.

usage: reflection_client.py PORT   prints one JSON object
"""
import json
import queue
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

try:
    from google.protobuf.message_factory import GetMessageClass
except ImportError:  # python3-protobuf before 4.x
    from google.protobuf import message_factory

    def GetMessageClass(desc):
        return message_factory.MessageFactory().GetPrototype(desc)

sys.dont_write_bytecode = True  # no __pycache__ left in test/python
from pbwire import f_bytes, f_varint, identity, parse, queued, read_varint  # noqa: E402

# ServerReflectionRequest fields
HOST, FILE_BY_FILENAME, FILE_CONTAINING_SYMBOL, FILE_CONTAINING_EXTENSION = 1, 3, 4, 5
ALL_EXTENSION_NUMBERS_OF_TYPE, LIST_SERVICES = 6, 7
# ServerReflectionResponse fields
FILE_DESCRIPTOR_RESPONSE, ALL_EXTENSION_NUMBERS_RESPONSE, LIST_SERVICES_RESPONSE, ERROR_RESPONSE = 4, 5, 6, 7


class Reflection:
    def __init__(self, channel):
        self.requests = queue.Queue()
        call = channel.stream_stream(
            '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
            request_serializer=identity,
            response_deserializer=identity,
        )
        self.responses = call(queued(self.requests), timeout=20)

    def ask(self, field, value):
        body = value if isinstance(value, bytes) else value.encode('utf-8')
        self.requests.put(f_bytes(HOST, b'py') + f_bytes(field, body))
        return parse(next(self.responses))

    def close(self):
        self.requests.put(None)
        return list(self.responses)  # the stream ends with OK (raises otherwise)


def error_of(res):
    if ERROR_RESPONSE not in res:
        return None
    e = parse(res[ERROR_RESPONSE][0])
    return {'code': e.get(1, [0])[0], 'message': e.get(2, [b''])[0].decode()}


def packed_varints(data):
    out, pos = [], 0
    while pos < len(data):
        v, pos = read_varint(data, pos)
        out.append(v)
    return out


def main():
    port = sys.argv[1]
    out = {}
    pool = descriptor_pool.DescriptorPool()
    files = {}

    def load(res):
        names = []
        for raw in parse(res[FILE_DESCRIPTOR_RESPONSE][0]).get(1, []):
            fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files[fd.name] = fd
            names.append(fd.name)
        return names

    added = set()

    def add(name):
        if name in added:
            return
        added.add(name)
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])

    with grpc.insecure_channel('127.0.0.1:%s' % port) as channel:
        r = Reflection(channel)
        listed = parse(r.ask(LIST_SERVICES, '')[LIST_SERVICES_RESPONSE][0]).get(1, [])
        out['service_names'] = sorted(parse(s)[1][0].decode() for s in listed)
        out['files'] = {}
        for service in out['service_names']:
            out['files'][service] = load(r.ask(FILE_CONTAINING_SYMBOL, service))
        for name in files:
            add(name)
        out['errors'] = [
            error_of(r.ask(FILE_BY_FILENAME, 'no/such.proto')),
            error_of(r.ask(FILE_CONTAINING_SYMBOL, 'helloworld.Nope')),
            error_of(r.ask(FILE_CONTAINING_EXTENSION, f_bytes(1, b'helloworld.HelloRequest') + f_varint(2, 100))),
        ]
        numbers = parse(r.ask(ALL_EXTENSION_NUMBERS_OF_TYPE, 'helloworld.HelloRequest')[ALL_EXTENSION_NUMBERS_RESPONSE][0])
        out['extension_numbers'] = {
            'base_type_name': numbers[1][0].decode(),
            'numbers': [n for chunk in numbers.get(2, []) for n in (packed_varints(chunk) if isinstance(chunk, bytes) else [chunk])],
        }
        r.close()

        # Call the Greeter with message classes made from the reflected descriptors alone.
        method = pool.FindServiceByName('helloworld.Greeter').methods_by_name['SayHello']
        Request = GetMessageClass(method.input_type)
        Reply = GetMessageClass(method.output_type)
        say = channel.unary_unary(
            '/helloworld.Greeter/SayHello',
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=Reply.FromString,
        )
        out['reply'] = say(Request(name='python'), timeout=20).message
        health = pool.FindServiceByName('grpc.health.v1.Health').methods_by_name['Check']
        check = channel.unary_unary(
            '/grpc.health.v1.Health/Check',
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=GetMessageClass(health.output_type).FromString,
        )
        status = check(GetMessageClass(health.input_type)(service='helloworld.Greeter'), timeout=20).status
        out['health'] = health.output_type.fields_by_name['status'].enum_type.values_by_number[status].name
    print(json.dumps(out))


main()
